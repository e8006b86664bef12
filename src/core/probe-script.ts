import { createHash, randomBytes } from 'node:crypto';
import { shq } from './shell.ts';
import { absentFile } from './facts.ts';
import type {
  CommandFact,
  Fact,
  FactQuery,
  FileFact,
  FileType,
  GroupFact,
  PackagesFact,
  ServiceFact,
  UserFact,
} from './facts.ts';

/**
 * One POSIX shell script that reads every queried fact and prints each in its own block.
 * Needs only sh and coreutils on the host (no Python): stat, sha256sum, base64, split, getent,
 * dpkg-query, systemctl.
 */
export interface ProbeScript {
  readonly script: string;
  parse(stdout: string): Fact[];
}

function fileSnippet(path: string, read: string): string {
  const p = shq(path);
  let body = `sha256sum < "$p" | cut -c1-64\n`;
  if (read === 'content') body += `base64 -w0 < "$p"; echo\n`;
  if (read === 'lineHashes') {
    // split writes one file per line (newline kept), so sha256sum hashes lines without a per-line process.
    body += `d=$(mktemp -d) && split -l 1 -a 8 -- "$p" "$d/l" && (cd "$d" && ls | xargs -r sha256sum) | cut -c1-64 | tr '\\n' ' '; echo; rm -rf "$d"\n`;
  }
  return (
    `p=${p}\n` +
    `if [ -e "$p" ] || [ -L "$p" ]; then\n` +
    `stat -c '%F|%a|%U|%G|%s|%Y' -- "$p"\n` +
    `if [ -f "$p" ] && [ ! -L "$p" ]; then\n${body}fi\n` +
    `else echo ABSENT; fi\n`
  );
}

function unitName(name: string): string {
  return name.includes('.') ? name : `${name}.service`;
}

function snippet(q: FactQuery): string {
  switch (q.kind) {
    case 'file':
      return fileSnippet(q.path, q.read);
    case 'packages':
      return q.names.length === 0
        ? ''
        : `dpkg-query -W -f='\${Package}\\t\${db:Status-Abbrev}\\t\${Version}\\n' -- ${q.names.map(shq).join(' ')} 2>/dev/null || true\n`;
    case 'user':
      return `getent passwd ${shq(q.name)} || true\n`;
    case 'group':
      return `getent group ${shq(q.name)} || true\n`;
    case 'service': {
      const sysv = q.name.replace(/\.service$/, '');
      return (
        `if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then echo systemd; ` +
        `systemctl show -p LoadState -p ActiveState -p UnitFileState -- ${shq(unitName(q.name))} 2>/dev/null; ` +
        `elif [ -x /etc/init.d/${shq(sysv)} ]; then echo sysv; ` +
        `if service ${shq(sysv)} status >/dev/null 2>&1; then echo active; else echo inactive; fi; ` +
        `else echo none; fi\n`
      );
    }
    case 'command':
      return `out=$( ( ${q.script}\n) </dev/null 2>&1 ); echo "$?"; printf '%s' "$out" | base64 -w0; echo\n`;
  }
}

const STAT_TYPES: Record<string, FileType> = {
  'regular file': 'file',
  'regular empty file': 'file',
  directory: 'directory',
  'symbolic link': 'symlink',
};

function parseFile(path: string, lines: string[]): FileFact {
  const head = lines[0] ?? '';
  if (head === 'ABSENT' || head === '') return absentFile(path);
  const [kind = '', mode = '', owner = '', group = '', size = '', mtime = ''] = head.split('|');
  const type = STAT_TYPES[kind] ?? 'other';
  const base: FileFact = {
    path,
    exists: true,
    type,
    mode: mode.padStart(4, '0'),
    owner,
    group,
    size: Number(size),
    sha256: type === 'file' ? (lines[1] ?? null) : null,
    mtime: Number(mtime),
  };
  if (type !== 'file') return base;
  const extra = lines[2];
  if (extra === undefined) return base;
  if (/^[0-9a-f ]*$/.test(extra) && extra.includes(' ')) {
    return {
      ...base,
      lineHashes: extra
        .trim()
        .split(' ')
        .filter((h) => h !== ''),
    };
  }
  return { ...base, content: Buffer.from(extra, 'base64') };
}

function parsePackages(names: readonly string[], lines: string[]): PackagesFact {
  const out: Record<string, { installed: boolean; version: string | null }> = {};
  for (const n of names) out[n] = { installed: false, version: null };
  for (const line of lines) {
    const [name = '', status = '', version = ''] = line.split('\t');
    const short = name.split(':')[0] ?? name;
    if (!(short in out)) continue;
    const installed = status.startsWith('ii');
    out[short] = { installed, version: installed ? version : null };
  }
  return out;
}

function parseUser(name: string, lines: string[]): UserFact {
  const f = (lines[0] ?? '').split(':');
  if (f.length < 7) return { name, exists: false, uid: null, gid: null, home: null, shell: null };
  return {
    name,
    exists: true,
    uid: Number(f[2]),
    gid: Number(f[3]),
    home: f[5] ?? null,
    shell: f[6] ?? null,
  };
}

function parseGroup(name: string, lines: string[]): GroupFact {
  const f = (lines[0] ?? '').split(':');
  if (f.length < 3) return { name, exists: false, gid: null };
  return { name, exists: true, gid: Number(f[2]) };
}

function parseService(name: string, lines: string[]): ServiceFact {
  const manager = lines[0];
  if (manager === 'systemd') {
    const props: Record<string, string> = Object.fromEntries(
      lines.slice(1).map((l) => [l.split('=')[0] ?? '', l.slice(l.indexOf('=') + 1)]),
    );
    return {
      name,
      manager,
      exists: props.LoadState === 'loaded',
      active: props.ActiveState ?? 'unknown',
      enabled: props.UnitFileState ?? '',
    };
  }
  if (manager === 'sysv')
    return { name, manager, exists: true, active: lines[1] ?? 'unknown', enabled: '' };
  return { name, manager: 'none', exists: false, active: 'inactive', enabled: '' };
}

function parseCommand(lines: string[]): CommandFact {
  return {
    code: Number(lines[0] ?? 255),
    stdout: Buffer.from(lines[1] ?? '', 'base64').toString('utf8'),
  };
}

function parseOne(q: FactQuery, lines: string[]): Fact {
  switch (q.kind) {
    case 'file':
      return parseFile(q.path, lines);
    case 'packages':
      return parsePackages(q.names, lines);
    case 'user':
      return parseUser(q.name, lines);
    case 'group':
      return parseGroup(q.name, lines);
    case 'service':
      return parseService(q.name, lines);
    case 'command':
      return parseCommand(lines);
  }
}

export function buildProbeScript(queries: readonly FactQuery[]): ProbeScript {
  // A per-script nonce in the block markers: no file content or command output can forge a block.
  const marker = `@@fb${randomBytes(6).toString('hex')}`;
  const script =
    queries.map((q, i) => `echo ${marker} ${i}\n${snippet(q)}`).join('') + `echo ${marker} end\n`;
  return {
    script,
    parse(stdout: string): Fact[] {
      const blocks: string[][] = [];
      let current: string[] | undefined;
      let ended = false;
      for (const line of stdout.split('\n')) {
        if (line.startsWith(`${marker} `)) {
          const tag = line.slice(marker.length + 1);
          if (tag === 'end') {
            ended = true;
            break;
          }
          current = [];
          blocks[Number(tag)] = current;
        } else if (current !== undefined) {
          current.push(line);
        }
      }
      if (!ended) throw new Error('probe output was cut short (no end marker)');
      return queries.map((q, i) => {
        const lines = blocks[i] ?? [];
        while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
        return parseOne(q, lines);
      });
    },
  };
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
