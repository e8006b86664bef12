// The reference deployment's inventory for lab hosts, shared by the e2e files that run
// playbooks/django-production.ts: the development inventory's vars, the lab's connection settings
// and its smarthost.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { LabInfo } from '../../src/lab/index.ts';
import { ROOT } from './helpers.ts';

export const DJANGO_PLAYBOOK = 'playbooks/django-production.ts';

export interface Admin {
  name: string;
  email: string;
}

export interface DevVars {
  domain: string;
  admins: Admin[];
  smarthost: { host: string; port: number; user: string };
  [k: string]: unknown;
}

/** The vars of inventories/development.yaml. */
export async function developmentVars(): Promise<DevVars> {
  const dev = YAML.parse(
    await readFile(path.join(ROOT, 'inventories/development.yaml'), 'utf8'),
  ) as { vars: DevVars };
  return dev.vars;
}

/**
 * Write an inventory of `hosts` (in the group `django`) with `vars`, reaching the lab's hosts and
 * relaying through its smarthost. `change` edits a copy of the vars first.
 */
export async function writeDjangoInventory(
  info: LabInfo,
  hosts: readonly string[],
  file: string,
  vars: DevVars,
  change: (vars: DevVars) => void = () => undefined,
): Promise<string> {
  const labInv = YAML.parse(await readFile(info.inventoryPath, 'utf8')) as {
    defaults: Record<string, unknown>;
    hosts: Record<string, unknown>;
  };
  const v = structuredClone(vars);
  v.smarthost = {
    host: info.smarthost.host,
    port: info.smarthost.port,
    user: info.smarthost.user,
  };
  change(v);
  const inv = {
    environment: 'development',
    defaults: labInv.defaults,
    vars: v,
    hosts: Object.fromEntries(hosts.map((h) => [h, labInv.hosts[h]])),
    groups: { django: { hosts: [...hosts] } },
  };
  await writeFile(file, YAML.stringify(inv));
  return file;
}
