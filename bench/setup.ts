/**
 * The benchmark's lab and files: hosts lab21..lab(20+N) (lab1-lab20 belong to the e2e tests), an
 * inventory per measured size, and a secrets dir, all in a private work dir outside the project.
 */
import { collect } from './spawn.ts';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { labStatus, labUp, type LabInfo } from '../src/lab/index.ts';
import { generateIdentityFile, readIdentity } from '../src/secrets/identity.ts';

export const ROOT = path.resolve(new URL('..', import.meta.url).pathname);
/** Hosts below this index are left to the e2e tests. */
export const FIRST_HOST = 21;
/** Growing the lab in steps keeps 2 cores able to answer the running hosts' health checks. */
const GROW_STEP = 20;

export interface BenchDirs {
  readonly work: string;
  readonly secrets: string;
  readonly state: string;
}

export async function benchDirs(): Promise<BenchDirs> {
  const work = path.join(tmpdir(), 'fleetbook-bench');
  await mkdir(work, { recursive: true, mode: 0o700 });
  await chmod(work, 0o700);
  const dirs = { work, secrets: path.join(work, 'secrets'), state: path.join(work, 'state') };
  await mkdir(dirs.state, { recursive: true, mode: 0o700 });
  await useBenchIdentity(work);
  return dirs;
}

/** The bench's own age identity, so that it neither needs nor touches the user's. */
export async function useBenchIdentity(work: string): Promise<void> {
  const file = path.join(work, 'age-identity.txt');
  process.env['FLEETBOOK_AGE_IDENTITY'] = file;
  if ((await readIdentity()) === undefined) await generateIdentityFile();
}

/**
 * At least `FIRST_HOST - 1 + hosts` lab hosts, never fewer than already exist (the lab removes
 * hosts beyond its count, and other people's tests use them).
 */
export async function ensureLab(hosts: number, log: (l: string) => void): Promise<LabInfo> {
  const want = FIRST_HOST - 1 + hosts;
  const now = await labStatus();
  let have = Math.max(now?.hosts.length ?? 0, now?.hosts.filter((h) => h.running).length ?? 0);
  if (have >= want) return labUp({ count: have, log });
  let info: LabInfo | undefined;
  // Booting 100 containers at once on 2 cores starves the running hosts; the lab then takes
  // them for hung and reboots them under whoever is using them.
  while (have < want) {
    have = Math.min(want, Math.max(have, FIRST_HOST - 1) + GROW_STEP);
    log(`lab: growing to ${have} hosts`);
    info = await labUp({ count: have, log });
  }
  if (info === undefined) throw new Error('lab did not start');
  return info;
}

export function benchHostNames(n: number): string[] {
  return Array.from({ length: n }, (_, k) => `lab${FIRST_HOST + k}`);
}

interface LabInventory {
  defaults: Record<string, unknown>;
  hosts: Record<string, { address: string }>;
}

/**
 * An inventory of exactly the measured hosts, in group `django`, with the vars of
 * inventories/development.yaml and the lab's smarthost (as test/e2e/django.test.ts builds it),
 * and one gunicorn worker per host: what a run reads does not depend on it, and it keeps 220 lab
 * hosts within this machine's memory (each worker holds ~30 MB).
 */
export async function writeInventory(
  info: LabInfo,
  dirs: BenchDirs,
  hosts: readonly string[],
  varsFile: string,
): Promise<string> {
  const lab = YAML.parse(await readFile(info.inventoryPath, 'utf8')) as LabInventory;
  const dev = YAML.parse(await readFile(path.resolve(ROOT, varsFile), 'utf8')) as {
    vars: Record<string, unknown>;
  };
  const vars = structuredClone(dev.vars);
  vars['workers'] = 1;
  vars['smarthost'] = {
    host: info.smarthost.host,
    port: info.smarthost.port,
    user: info.smarthost.user,
  };
  const inv = {
    environment: 'development',
    defaults: lab.defaults,
    vars,
    hosts: Object.fromEntries(
      hosts.map((h) => {
        const entry = lab.hosts[h];
        if (entry === undefined) throw new Error(`${h} is not in the lab inventory`);
        return [h, entry];
      }),
    ),
    groups: { django: { hosts: [...hosts] } },
  };
  const file = path.join(dirs.work, `inventory-${hosts.length}.yaml`);
  await writeFile(
    file,
    `# Written by bench/run.ts: lab hosts ${hosts[0] ?? ''}..${hosts[hosts.length - 1] ?? ''}\n${YAML.stringify(inv)}`,
  );
  return file;
}

export interface CliExit {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly wallMs: number;
}

/** The real CLI, as a user runs it from the project root; wall time from spawn to exit. */
export async function fleetbookCli(
  args: readonly string[],
  dirs: BenchDirs,
  nodeArgs: readonly string[] = [],
): Promise<CliExit> {
  const r = await collect(process.execPath, [...nodeArgs, 'bin/fleetbook.js', ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      FLEETBOOK_SECRETS_DIR: dirs.secrets,
      FLEETBOOK_STATE_DIR: dirs.state,
      NO_COLOR: '1',
    },
  });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, wallMs: r.ms };
}

/** As an operator would: the lab smarthost's password, from its file, into the bench secrets dir. */
export async function setSecrets(info: LabInfo, dirs: BenchDirs): Promise<void> {
  const r = await fleetbookCli(
    [
      'secret',
      'set',
      'development',
      'smarthost_password',
      '--from-file',
      info.smarthost.passwordFile,
    ],
    dirs,
  );
  if (r.code !== 0) throw new Error(`fleetbook secret set failed: ${r.stderr}`);
}
