import { access, readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { displayPath, expandHome } from '../core/paths.ts';
import { importUserModule } from '../core/user-module.ts';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { ConfigError } from '../core/errors.ts';
import { validate } from '../core/schema.ts';
import { readSshConfig, type SshConfigFile } from '../transport/ssh-config.ts';
import type { SshHop } from '../transport/types.ts';
import { resolveConnection } from './connection.ts';
import { InventorySchema, NAME, type InventoryDefinition } from './schema.ts';

export interface ResolvedHost {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly key: string | undefined;
  /** Hosts the connection jumps through (ProxyJump), first hop first. */
  readonly jumps: readonly SshHop[];
  readonly knownHosts: string;
  readonly acceptNewHostKeys: boolean;
  readonly become: boolean;
  readonly connection: 'ssh' | 'local';
  /** Every group the host is in, directly or through a parent group. */
  readonly groups: readonly string[];
  /** Inventory vars merged: all, then groups (parents before children), then the host's own. */
  readonly vars: Readonly<Record<string, unknown>>;
  /** Where the key came from, for error messages: `hosts.web1.key` or `defaults.key`. */
  readonly keyField?: string;
}

export interface Inventory {
  readonly file: string;
  readonly environment: string;
  /** Environments the inventory declares beyond the default ones. */
  readonly environments: readonly string[];
  readonly hosts: readonly ResolvedHost[];
  readonly groups: ReadonlyMap<string, readonly string[]>;
}

/** Best-effort "file:line:col" for a field of a YAML document, so errors point into the file. */
function yamlLocation(doc: Document, counter: LineCounter, field: string | undefined): string {
  if (field === undefined || field === '(params)') return '';
  const path = field.split('.');
  for (let n = path.length; n > 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range !== undefined && node.range !== null) {
      const pos = counter.linePos(node.range[0]);
      return `:${pos.line}:${pos.col}`;
    }
  }
  return '';
}

async function readDefinition(file: string): Promise<InventoryDefinition> {
  const shown = displayPath(file);
  const ext = extname(file);
  if (ext === '.yaml' || ext === '.yml') {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError(
        code === 'ENOENT' ? 'inventory file not found' : `cannot read inventory: ${String(err)}`,
        { file: shown },
      );
    }
    const counter = new LineCounter();
    const doc = parseDocument(text, { lineCounter: counter, prettyErrors: true });
    const first = doc.errors[0];
    if (first !== undefined)
      throw new ConfigError(`not valid YAML: ${first.message}`, { file: shown });
    const data: unknown = doc.toJS();
    if (data === null || data === undefined)
      throw new ConfigError('the inventory is empty (it needs at least environment and hosts)', {
        file: shown,
      });
    try {
      return validate(InventorySchema, data, {});
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const field = /^([^:\s]+):/.exec(err.message)?.[1];
      throw new ConfigError(err.message, { file: `${shown}${yamlLocation(doc, counter, field)}` });
    }
  }
  if (ext === '.ts' || ext === '.js' || ext === '.mjs') {
    let mod: { default?: unknown };
    try {
      mod = await importUserModule(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_MODULE_NOT_FOUND' && String(err).includes(file))
        throw new ConfigError('inventory file not found', { file: shown });
      throw new ConfigError(
        `cannot load inventory: ${err instanceof Error ? err.message : String(err)}`,
        { file: shown },
      );
    }
    if (mod.default === undefined)
      throw new ConfigError('an inventory module must `export default defineInventory({...})`', {
        file: shown,
      });
    return validate(InventorySchema, mod.default, { file: shown });
  }
  throw new ConfigError(`unknown inventory type "${ext}": use .yaml, .yml or .ts`, { file: shown });
}

/** Load, validate and resolve an inventory file (YAML or TypeScript). Throws ConfigError naming file and field. */
export async function loadInventory(path: string): Promise<Inventory> {
  const file = resolve(path);
  const shown = displayPath(file);
  const def = await readDefinition(file);
  return resolveInventory(def, shown, readSshConfig(def.defaults?.sshConfig ?? '~/.ssh/config'));
}

/**
 * A key file that is not there is an inventory error, found before any connection, naming the
 * field; checked for the hosts a run will connect to.
 */
export async function checkKeyFiles(inv: Inventory, hosts: readonly ResolvedHost[]): Promise<void> {
  for (const h of hosts) {
    if (h.connection === 'local') continue;
    const keys = [
      { key: h.key, field: h.keyField ?? 'key' },
      ...h.jumps.map((j) => ({ key: j.key, field: `defaults.key (for jump host ${j.address})` })),
    ];
    for (const { key, field } of keys) {
      if (key === undefined) continue;
      try {
        await access(key);
      } catch {
        throw new ConfigError(
          `${field}: the private key file ${key} does not exist (or cannot be read)`,
          { file: inv.file, field },
        );
      }
    }
  }
}

export function resolveInventory(
  def: InventoryDefinition,
  shown: string,
  ssh?: SshConfigFile,
): Inventory {
  const groupDefs = def.groups ?? {};
  const hostNames = Object.keys(def.hosts);
  if (hostNames.length === 0) throw new ConfigError('the inventory has no hosts', { file: shown });
  // Names end up in patterns, file names and output; the schema's key pattern alone is not enforced.
  const valid = new RegExp(NAME);
  for (const [what, names] of [
    ['host', hostNames],
    ['group', Object.keys(def.groups ?? {})],
  ] as const) {
    for (const n of names)
      if (!valid.test(n))
        throw new ConfigError(
          `${what} name ${JSON.stringify(n)} is not valid: use letters, digits, ".", "_" and "-", starting with a letter or digit`,
          { file: shown, field: `${what}s` },
        );
  }
  for (const name of Object.keys(groupDefs)) {
    if (name in def.hosts)
      throw new ConfigError(`"${name}" is both a host and a group`, { file: shown });
    if (name === 'all')
      throw new ConfigError('"all" is reserved: it always means every host', { file: shown });
  }
  // Members of each group, children included; parents listed before children for var precedence.
  const members = new Map<string, string[]>();
  const visiting = new Set<string>();
  const expand = (group: string, trail: string[]): string[] => {
    const known = members.get(group);
    if (known !== undefined) return known;
    const g = groupDefs[group];
    if (g === undefined)
      throw new ConfigError(`group "${trail.at(-1) ?? ''}" lists unknown child group "${group}"`, {
        file: shown,
      });
    if (visiting.has(group))
      throw new ConfigError(`group cycle: ${[...trail, group].join(' -> ')}`, { file: shown });
    visiting.add(group);
    const out = new Set<string>();
    for (const h of g.hosts ?? []) {
      if (!(h in def.hosts))
        throw new ConfigError(`group "${group}" lists unknown host "${h}"`, {
          file: shown,
          field: `groups.${group}.hosts`,
        });
      out.add(h);
    }
    for (const child of g.children ?? [])
      for (const h of expand(child, [...trail, group])) out.add(h);
    visiting.delete(group);
    const list = [...out];
    members.set(group, list);
    return list;
  };
  for (const name of Object.keys(groupDefs)) expand(name, []);

  const defaults = def.defaults ?? {};
  const hosts = hostNames.map((name): ResolvedHost => {
    const h = def.hosts[name] ?? {};
    const groups = [...members].filter(([, list]) => list.includes(name)).map(([g]) => g);
    // Parent groups contain all of a child's hosts, so "more members" sorts parents first.
    const ordered = [...groups].sort(
      (a, b) => (members.get(b)?.length ?? 0) - (members.get(a)?.length ?? 0),
    );
    const vars: Record<string, unknown> = { ...(def.vars ?? {}) };
    for (const g of ordered) Object.assign(vars, groupDefs[g]?.vars ?? {});
    Object.assign(vars, h.vars ?? {});
    const connection = h.connection ?? defaults.connection ?? 'ssh';
    return {
      name,
      ...resolveConnection(name, h, defaults, connection === 'ssh' ? ssh : undefined, shown),
      knownHosts: expandHome(h.knownHosts ?? defaults.knownHosts ?? '~/.ssh/known_hosts'),
      acceptNewHostKeys: h.acceptNewHostKeys ?? defaults.acceptNewHostKeys ?? false,
      become: h.become ?? defaults.become ?? false,
      connection,
      groups,
      vars,
    };
  });
  return {
    file: shown,
    environment: def.environment,
    environments: def.environments ?? [],
    hosts,
    groups: members,
  };
}
