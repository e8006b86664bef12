import { createHash, randomBytes } from 'node:crypto';
import { joinScripts, raw, sh, type Script } from './shell.ts';
import { absentFile } from './facts.ts';
import { packageContentsSnippet, parsePackageContents } from './package-contents.ts';
import type { CustomQuery } from './custom-fact.ts';
import type {
  CommandFact,
  CustomFact,
  Fact,
  FactQuery,
  FileFact,
  FileQuery,
  FileType,
  GroupFact,
  PackagesFact,
  PackageState,
  ServiceFact,
  UserFact,
} from './facts.ts';

/**
 * One POSIX shell script that reads every queried fact. Like a person would write it, it reads in
 * bulk: one `stat` of every path, one `sha256sum` of every regular file, one `dpkg-query`, one
 * `getent` per database, one `systemctl show`; file bytes travel only when the file's hash is not
 * the one the caller already expects (the no-change case sends none). Needs only sh and coreutils
 * on the host (no Python).
 */
export interface ProbeScript {
  readonly script: Script;
  parse(stdout: string): Fact[];
}

const NL = sh`NL='\n'\n`;

function unitName(name: string): string {
  return name.includes('.') ? name : `${name}.service`;
}

/** A read of a file's bytes, skipped when sha256sum already printed the expected hash for it. */
function bytesSnippet(q: FileQuery): Script {
  const read =
    q.read === 'content'
      ? sh`base64 -w0 < "$p"; echo`
      : // split writes one file per line (newline kept), so sha256sum hashes lines without a per-line process.
        sh`d=$(mktemp -d) && split -l 1 -a 8 -- "$p" "$d/l" && (cd "$d" && ls | xargs -r sha256sum) | cut -c1-64 | tr '\n' ' '; echo; rm -rf "$d"`;
  // A hash is hex (checked), so it can sit inside the double-quoted case pattern as it is.
  const guarded =
    q.skipIfSha256 === undefined || !/^[0-9a-f]{64}$/.test(q.skipIfSha256)
      ? read
      : sh`case "\${NL}\${sums}\${NL}" in *"\${NL}${raw(q.skipIfSha256)}  \${p}\${NL}"*) ;; *) ${read};; esac`;
  return sh`p=${q.path}\nif [ -f "$p" ] && [ ! -L "$p" ]; then ${guarded}; fi\n`;
}

function sysvSnippet(name: string): Script {
  const s = name.replace(/\.service$/, '');
  return sh`if [ -x /etc/init.d/${s} ]; then if service ${s} status >/dev/null 2>&1; then echo active; else echo inactive; fi; else echo none; fi\n`;
}

function commandSnippet(script: Script): Script {
  // Output is base64 (only when there is any), so it may hold any bytes and any line.
  return sh`out=$( ( ${script}\n) </dev/null 2>&1 ); echo "$?"; [ -z "$out" ] || printf '%s' "$out" | base64 -w0; echo\n`;
}

/** Everything the queries ask, deduplicated across queries. */
interface Wanted {
  readonly paths: Set<string>;
  readonly packages: Set<string>;
  readonly users: Set<string>;
  readonly groups: Set<string>;
  readonly units: string[];
  /** Custom facts (defineFact) by kind: each kind's distinct queries, read by one script. */
  readonly custom: Map<string, CustomQuery[]>;
}

function wanted(queries: readonly FactQuery[]): Wanted {
  const w: Wanted = {
    paths: new Set(),
    packages: new Set(),
    users: new Set(),
    groups: new Set(),
    units: [],
    custom: new Map(),
  };
  for (const q of queries) {
    switch (q.kind) {
      case 'file':
        if (q.path.includes('\n'))
          throw new Error(
            `cannot probe ${JSON.stringify(q.path)}: paths with a newline are not supported`,
          );
        w.paths.add(q.path);
        break;
      // packageContents reads the statuses of its names from the one dpkg-query (fb_dpkg)
      case 'packages':
      case 'packageContents':
        for (const n of q.names) w.packages.add(n);
        break;
      case 'user':
        w.users.add(q.name);
        break;
      case 'group':
        w.groups.add(q.name);
        break;
      case 'service':
        if (!w.units.includes(unitName(q.name))) w.units.push(unitName(q.name));
        break;
      case 'command':
        break;
      case 'custom': {
        const same = w.custom.get(q.def.kind) ?? [];
        if (!same.some((c) => c.key === q.key)) same.push(q);
        w.custom.set(q.def.kind, same);
        break;
      }
    }
  }
  return w;
}

function scriptFor(queries: readonly FactQuery[], w: Wanted, m: string, asRoot: boolean): Script {
  const mark = (tag: string): Script => sh`echo ${`${m} ${tag}`}\n`;
  const out: Script[] = [NL];
  if (w.paths.size > 0) {
    const ps = [...w.paths];
    out.push(
      mark('stat'),
      sh`stat -c '%F|%a|%U|%G|%s|%Y|%d:%i|%n' -- ${ps} 2>/dev/null\n`,
      // Not root: a path in a directory we may not enter looks absent to stat; its error says why.
      ...(asRoot
        ? []
        : [
            mark('staterr'),
            sh`stat -c '' -- ${ps} 2>&1 >/dev/null | grep -e 'Permission denied' || true\n`,
          ]),
      // Regular files only: sha256sum would follow a symlink, and fail noisily on a directory.
      mark('sums'),
      sh`set --\nfor p in ${ps}; do if [ -f "$p" ] && [ ! -L "$p" ]; then set -- "$@" "$p"; fi; done\n`,
      sh`sums=; if [ $# -gt 0 ]; then sums=$(sha256sum -- "$@" 2>/dev/null); fi; printf '%s\n' "$sums"\n`,
      // Symlinks' targets (readlink only runs for a path that is one).
      mark('links'),
      sh`for p in ${ps}; do if [ -L "$p" ]; then printf '%s\t%s\n' "$p" "$(readlink -- "$p")"; fi; done\n`,
    );
  }
  if (w.packages.size > 0)
    out.push(
      mark('dpkg'),
      sh`fb_dpkg=$(dpkg-query -W -f='\${Package}\t\${db:Status-Abbrev}\t\${Version}\n' -- ${[...w.packages]} 2>/dev/null || true); printf '%s\n' "$fb_dpkg"\n`,
    );
  if (w.users.size > 0) out.push(mark('passwd'), sh`getent passwd ${[...w.users]} || true\n`);
  if (w.groups.size > 0) out.push(mark('group'), sh`getent group ${[...w.groups]} || true\n`);
  if (w.units.length > 0) {
    out.push(
      mark('svc'),
      sh`if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then echo systemd; `,
      sh`systemctl show -p Id -p LoadState -p ActiveState -p UnitFileState -p NeedDaemonReload -- ${w.units} 2>/dev/null\nelse echo sysv\n`,
      ...w.units.flatMap((u, i) => [mark(`v${i}`), sysvSnippet(u)]),
      sh`fi\n`,
    );
  }
  [...w.custom.values()].forEach((qs, k) => {
    const def = qs[0]?.def;
    // In a subshell: the script's own exit or `set -e` cannot end the probe.
    if (def !== undefined) out.push(mark(`k${k}`), sh`(\n${def.script(qs.map((q) => q.arg))}\n)\n`);
  });
  queries.forEach((q, i) => {
    if (q.kind === 'file' && q.read !== 'none') out.push(mark(`c${i}`), bytesSnippet(q));
    if (q.kind === 'command') out.push(mark(`x${i}`), commandSnippet(q.script));
    if (q.kind === 'packageContents') out.push(mark(`p${i}`), packageContentsSnippet(q));
  });
  out.push(mark('end'));
  return joinScripts(out, '');
}

const STAT_TYPES: Record<string, FileType> = {
  'regular file': 'file',
  'regular empty file': 'file',
  directory: 'directory',
  'symbolic link': 'symlink',
};

/** Output sections by tag; throws when the end marker is missing (the output was cut short). */
function sections(stdout: string, marker: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith(`${marker} `)) {
      const tag = line.slice(marker.length + 1);
      if (tag === 'end') {
        for (const lines of out.values())
          while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
        return out;
      }
      current = [];
      out.set(tag, current);
    } else if (current !== undefined) {
      current.push(line);
    }
  }
  throw new Error('probe output was cut short (no end marker)');
}

type StatLine = Omit<FileFact, 'sha256' | 'content' | 'lineHashes'>;

function parseStats(lines: readonly string[]): Map<string, StatLine> {
  const out = new Map<string, StatLine>();
  for (const line of lines) {
    const f = line.split('|');
    if (f.length < 8) continue;
    const [kind = '', mode = '', owner = '', group = '', size = '', mtime = '', inode = ''] = f;
    // The path is last, so a `|` in it stays whole.
    const path = f.slice(7).join('|');
    out.set(path, {
      path,
      exists: true,
      type: STAT_TYPES[kind] ?? 'other',
      mode: mode.padStart(4, '0'),
      owner,
      group,
      size: Number(size),
      mtime: Number(mtime),
      inode,
    });
  }
  return out;
}

function parseSums(lines: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines) {
    // sha256sum marks a name it had to escape with a leading backslash.
    const escaped = line.startsWith('\\');
    const body = escaped ? line.slice(1) : line;
    const hash = body.slice(0, 64);
    const name = body.slice(66);
    out.set(escaped ? name.replace(/\\\\/g, '\\') : name, hash);
  }
  return out;
}

/** `PATH<TAB>TARGET` lines; a path is cut at its first tab. */
function parseLinks(lines: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines) {
    const tab = line.indexOf('\t');
    if (tab > 0) out.set(line.slice(0, tab), line.slice(tab + 1));
  }
  return out;
}

function withLink(f: FileFact, links: ReadonlyMap<string, string>): FileFact {
  const target = f.type === 'symlink' ? links.get(f.path) : undefined;
  return target === undefined ? f : { ...f, linkTarget: target };
}

/** `stat: cannot statx '/etc/x/y': Permission denied` names the path quoted, one way or another. */
function deniedPath(path: string, denied: readonly string[]): boolean {
  return denied.some(
    (l) => l.includes(`'${path}'`) || l.includes(`"${path}"`) || l.includes(` ${path}:`),
  );
}

function parseFile(
  q: FileQuery,
  stats: ReadonlyMap<string, StatLine>,
  sums: ReadonlyMap<string, string>,
  bytes: readonly string[] | undefined,
  denied: readonly string[],
): FileFact {
  const st = stats.get(q.path);
  if (st === undefined)
    return deniedPath(q.path, denied)
      ? { ...absentFile(q.path), unreadable: 'permission denied: cannot look into its directory' }
      : absentFile(q.path);
  const sum = st.type === 'file' ? sums.get(q.path) : undefined;
  // sha256sum names every regular file it could read; one it could not is not readable to us.
  if (st.type === 'file' && sum === undefined)
    return { ...st, sha256: null, unreadable: 'permission denied: cannot read it' };
  const base: FileFact = { ...st, sha256: sum ?? null };
  const line = bytes?.[0];
  if (st.type !== 'file' || line === undefined) return base;
  if (q.read === 'lineHashes')
    return { ...base, lineHashes: line.split(' ').filter((h) => h !== '') };
  return { ...base, content: Buffer.from(line, 'base64') };
}

function parsePackages(names: readonly string[], lines: readonly string[]): PackagesFact {
  const out: Record<string, PackageState> = {};
  for (const n of names) out[n] = { installed: false, version: null };
  for (const line of lines) {
    const [name = '', status = '', version = ''] = line.split('\t');
    const short = name.split(':')[0] ?? name;
    if (!(short in out)) continue;
    // Status-Abbrev: the wanted action (i install, h hold, ...), then the state (i installed).
    const installed = status[1] === 'i';
    out[short] = {
      installed,
      version: installed ? version : null,
      ...(status.startsWith('h') ? { held: true } : {}),
    };
  }
  return out;
}

/** getent lines by their first field. */
function byName(lines: readonly string[] | undefined): Map<string, string[]> {
  return new Map((lines ?? []).map((l) => l.split(':')).map((f) => [f[0] ?? '', f]));
}

function parseUser(name: string, f: readonly string[] | undefined): UserFact {
  if (f === undefined || f.length < 7)
    return { name, exists: false, uid: null, gid: null, home: null, shell: null };
  return {
    name,
    exists: true,
    uid: Number(f[2]),
    gid: Number(f[3]),
    home: f[5] ?? null,
    shell: f[6] ?? null,
  };
}

function parseGroup(name: string, f: readonly string[] | undefined): GroupFact {
  if (f === undefined || f.length < 3) return { name, exists: false, gid: null };
  const members = (f[3] ?? '').split(',').filter((m) => m !== '');
  return { name, exists: true, gid: Number(f[2]), members };
}

/** `systemctl show` of several units: one block of properties per unit, in order, blank-line separated. */
function systemdBlocks(lines: readonly string[]): Record<string, string>[] {
  const blocks: Record<string, string>[] = [];
  let current: Record<string, string> | undefined;
  for (const l of lines) {
    if (l === '') {
      current = undefined;
      continue;
    }
    if (current === undefined) {
      current = {};
      blocks.push(current);
    }
    const eq = l.indexOf('=');
    if (eq > 0) current[l.slice(0, eq)] = l.slice(eq + 1);
  }
  return blocks;
}

function parseService(
  name: string,
  unitIndex: number,
  svc: readonly string[],
  sysv: readonly string[] | undefined,
): ServiceFact {
  if (svc[0] === 'systemd') {
    const props = systemdBlocks(svc.slice(1))[unitIndex] ?? {};
    return {
      name,
      manager: 'systemd',
      exists: props.LoadState === 'loaded',
      active: props.ActiveState ?? 'unknown',
      enabled: props.UnitFileState ?? '',
      needsDaemonReload: props.NeedDaemonReload === 'yes',
    };
  }
  const state = sysv?.[0];
  if (state === 'active' || state === 'inactive')
    return {
      name,
      manager: 'sysv',
      exists: true,
      active: state,
      enabled: '',
      needsDaemonReload: false,
    };
  return {
    name,
    manager: 'none',
    exists: false,
    active: 'inactive',
    enabled: '',
    needsDaemonReload: false,
  };
}

function parseCommand(lines: readonly string[] | undefined): CommandFact {
  return {
    code: Number(lines?.[0] ?? 255),
    stdout: Buffer.from(lines?.[1] ?? '', 'base64').toString('utf8'),
  };
}

/**
 * The probe for these queries. `asRoot`: whether it runs as root; if not, it also asks why a path
 * could not be looked at, so a file hidden by permissions is not taken for a missing one.
 */
export function buildProbeScript(queries: readonly FactQuery[], asRoot = true): ProbeScript {
  // A per-script nonce in the section markers: no file content or command output can forge one.
  const marker = `@@fb${randomBytes(6).toString('hex')}`;
  const w = wanted(queries);
  return {
    script: scriptFor(queries, w, marker, asRoot),
    parse(stdout: string): Fact[] {
      const s = sections(stdout, marker);
      const stats = parseStats(s.get('stat') ?? []);
      const sums = parseSums(s.get('sums') ?? []);
      const links = parseLinks(s.get('links') ?? []);
      const denied = s.get('staterr') ?? [];
      const passwd = byName(s.get('passwd'));
      const groups = byName(s.get('group'));
      const dpkg = s.get('dpkg') ?? [];
      const svc = s.get('svc') ?? [];
      const custom = parseCustom(w.custom, s);
      return queries.map((q, i): Fact => {
        switch (q.kind) {
          case 'file':
            return withLink(parseFile(q, stats, sums, s.get(`c${i}`), denied), links);
          case 'packages':
            return parsePackages(q.names, dpkg);
          case 'user':
            return parseUser(q.name, passwd.get(q.name));
          case 'group':
            return parseGroup(q.name, groups.get(q.name));
          case 'service': {
            const u = w.units.indexOf(unitName(q.name));
            return parseService(q.name, u, svc, s.get(`v${u}`));
          }
          case 'command':
            return parseCommand(s.get(`x${i}`));
          case 'packageContents':
            return parsePackageContents(s.get(`p${i}`) ?? []);
          case 'custom':
            return custom.get(q.key) as CustomFact;
        }
      });
    },
  };
}

/** Each custom kind's facts by query key, from its section; a parser that errs names its kind. */
function parseCustom(
  byKind: ReadonlyMap<string, CustomQuery[]>,
  s: ReadonlyMap<string, string[]>,
): Map<string, unknown> {
  const out = new Map<string, unknown>();
  [...byKind.values()].forEach((qs, k) => {
    const def = qs[0]?.def;
    if (def === undefined) return;
    const args = qs.map((q) => q.arg);
    const facts = def.parse((s.get(`k${k}`) ?? []).join('\n'), args);
    if (facts.length !== qs.length)
      throw new Error(
        `fact ${def.kind}: its parser gave ${facts.length} facts for ${qs.length} queries`,
      );
    qs.forEach((q, i) => out.set(q.key, facts[i]));
  });
  return out;
}

/** Split content into lines the way `split -l 1` does (newline kept), and hash each. */
export function lineHashes(content: Buffer | string): string[] {
  const text = typeof content === 'string' ? content : content.toString('utf8');
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  return lines.map((l) => createHash('sha256').update(l).digest('hex'));
}

export function sha256(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}
