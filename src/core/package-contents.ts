/**
 * What installing packages would put on a host, read without installing: apt resolves the
 * packages an install would add (dependencies included), downloads their archives into a private
 * temporary directory (removed afterwards), and lists them. Check mode predicts from it the
 * directories and conffiles an install creates, and knows which other paths it cannot predict:
 * the files the packages ship, the paths their maintainer scripts name, the units they ship, and
 * whether those scripts make accounts.
 */
import { sh, type Script } from './shell.ts';
import { createHash } from 'node:crypto';
import type { FileFact, FileType } from './facts.ts';

export interface PackageContentsQuery {
  readonly kind: 'packageContents';
  /** The packages a task would install (those already installed are skipped on the host). */
  readonly names: readonly string[];
  readonly recommends: boolean;
}

/** One package an install would add. */
export interface PackageContents {
  readonly name: string;
  /** Its directories, and its conffiles with their bytes: what check mode can predict exactly. */
  readonly files: readonly FileFact[];
  /** Its other files and links: they appear, but their facts are not predicted. */
  readonly shipped: readonly string[];
  /** Absolute paths its preinst and postinst name (each as written): they may create or change them. */
  readonly scripted: readonly string[];
  /** systemd units it ships. */
  readonly units: readonly string[];
  /** Its maintainer scripts create users or groups. */
  readonly accounts: boolean;
}

export interface PackageContentsFact {
  /** Why what an install would add could not be read (no apt lists, a failed download). */
  readonly error?: string;
  readonly packages: readonly PackageContents[];
}

/** The fact where nothing is read: the named packages are all installed, or a real run. */
export const NO_CONTENTS: PackageContentsFact = { packages: [] };

/**
 * The host side. Its output, line by line: `none`, or `error TEXT`, or per package `pkg NAME`
 * then `c LISTING` (dpkg-deb -c), `f PATH` (conffiles), `s PATH` (named in preinst/postinst),
 * `a` (they make accounts), `b PATH BASE64` (a conffile's bytes). Part of a probe script only:
 * it reads the statuses its dpkg section left in fb_dpkg, which buildProbeScript makes cover these
 * names.
 */
export function packageContentsSnippet(q: PackageContentsQuery): Script {
  const recommends = q.recommends ? '--install-recommends' : '--no-install-recommends';
  // The names not installed, read from the probe's one dpkg-query (fb_dpkg: NAME, tab, status),
  // without a process of its own: on a converged host that is all this runs, on every host of a
  // fleet's check. The second letter of the status is the state, i for installed (held or not).
  return sh`(
fb_pc_nl='
'
set --
for n in ${q.names}; do
  case "$fb_pc_nl$fb_dpkg" in *"$fb_pc_nl$n\t"?i*) ;; *) set -- "$@" "$n" ;; esac
done
[ $# -gt 0 ] || { echo none; exit 0; }
fb_pc_d=$(mktemp -d) || exit 0
trap 'rm -rf "$fb_pc_d"' EXIT
if ! fb_pc_s=$(LC_ALL=C apt-get -s -q -o Debug::NoLocking=1 install ${recommends} -- "$@" 2>&1); then
  echo "error apt-get -s install: $(printf '%s\n' "$fb_pc_s" | grep -v '^ *$' | tail -n 1)"; exit 0
fi
set -- $(printf '%s\n' "$fb_pc_s" | awk '$1 == "Inst" { print $2 }')
[ $# -gt 0 ] || { echo none; exit 0; }
if ! fb_pc_o=$(cd "$fb_pc_d" && LC_ALL=C apt-get -q download -- "$@" 2>&1); then
  echo "error apt-get download: $(printf '%s\n' "$fb_pc_o" | grep '^E:' | tail -n 1)"; exit 0
fi
for deb in "$fb_pc_d"/*.deb; do
  echo "pkg $(dpkg-deb -f "$deb" Package)"
  dpkg-deb -c "$deb" | sed 's/^/c /'
  rm -rf "$fb_pc_d/ctl" "$fb_pc_d/x"; mkdir "$fb_pc_d/ctl" "$fb_pc_d/x"
  dpkg-deb -e "$deb" "$fb_pc_d/ctl"
  for s in preinst postinst; do
    [ -f "$fb_pc_d/ctl/$s" ] || continue
    sed 's|\\\\/|/|g' "$fb_pc_d/ctl/$s" | grep -o '/[A-Za-z0-9_.+-][A-Za-z0-9_.+/-]*' | sed 's/^/s /'
    grep -Eq '(adduser|useradd|addgroup|groupadd|systemd-sysusers)' "$fb_pc_d/ctl/$s" && echo a
  done
  [ -f "$fb_pc_d/ctl/conffiles" ] || continue
  awk '{ print $NF }' "$fb_pc_d/ctl/conffiles" | grep '^/' > "$fb_pc_d/conffiles"
  sed 's/^/f /' "$fb_pc_d/conffiles"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$fb_pc_d/x" 2>/dev/null
  while IFS= read -r p; do
    [ -f "$fb_pc_d/x$p" ] && printf 'b %s %s\n' "$p" "$(base64 -w0 < "$fb_pc_d/x$p")"
  done < "$fb_pc_d/conffiles"
done
)
`;
}

const TYPES: Record<string, FileType> = { d: 'directory', '-': 'file', l: 'symlink', h: 'file' };

/** `-rwsr-xr--` -> "4754". */
export function modeOf(perms: string): string {
  const bits = perms.slice(1, 10);
  let mode = 0;
  const special = [
    [2, 0o4000, 's', 'S'],
    [5, 0o2000, 's', 'S'],
    [8, 0o1000, 't', 'T'],
  ] as const;
  for (let i = 0; i < 9; i++) {
    const c = bits[i] ?? '-';
    if (c !== '-' && c !== 'S' && c !== 'T') mode |= 1 << (8 - i);
  }
  for (const [i, bit, lower, upper] of special) {
    const c = bits[i];
    if (c === lower || c === upper) mode |= bit;
  }
  return mode.toString(8).padStart(4, '0');
}

interface Listed {
  readonly path: string;
  readonly type: FileType;
  readonly mode: string;
  readonly owner: string;
  readonly group: string;
  readonly size: number;
}

/** One `dpkg-deb -c` line: `drwxr-xr-x root/root 0 2022-05-14 00:38 ./etc/dma/`. */
export function parseListing(line: string): Listed | null {
  const m = /^(\S{10})\s+([^/\s]+)\/(\S+)\s+(\d+)\s+\S+\s+\S+\s+\.(\/.*)$/.exec(line);
  if (m === null) return null;
  const [, perms = '', owner = '', group = '', size = '0', rest = ''] = m;
  const type = TYPES[perms[0] ?? ''] ?? 'other';
  // "./a -> target" (symlink), "./a link to ./b" (hard link)
  let path = rest;
  if (type === 'symlink') path = rest.split(' -> ')[0] ?? rest;
  if (perms[0] === 'h') path = rest.split(' link to ')[0] ?? rest;
  path = path.length > 1 ? path.replace(/\/$/, '') : path;
  return { path, type, mode: modeOf(perms), owner, group, size: Number(size) };
}

const UNIT = /^\/(?:usr\/)?lib\/systemd\/system\/([^/]+\.(?:service|socket|timer))$/;

/** The host side's output, parsed. */
export function parsePackageContents(lines: readonly string[]): PackageContentsFact {
  const first = lines[0] ?? '';
  if (first.startsWith('error ')) return { error: first.slice(6), packages: [] };
  if (lines.length === 0 || first === 'none') return NO_CONTENTS;
  const packages: PackageContents[] = [];
  let cur:
    | {
        name: string;
        listed: Listed[];
        conf: Set<string>;
        bytes: Map<string, Buffer>;
        scripted: Set<string>;
        accounts: boolean;
      }
    | undefined;
  const flush = (): void => {
    if (cur === undefined) return;
    const files: FileFact[] = [];
    const shipped: string[] = [];
    const units: string[] = [];
    for (const l of cur.listed) {
      if (l.path === '/') continue;
      const unit = UNIT.exec(l.path)?.[1];
      if (unit !== undefined) units.push(unit);
      const bytes = cur.bytes.get(l.path);
      if (l.type === 'directory') files.push(fact(l, null));
      else if (l.type === 'file' && cur.conf.has(l.path) && bytes !== undefined)
        files.push({
          ...fact(l, createHash('sha256').update(bytes).digest('hex')),
          content: bytes,
        });
      else shipped.push(l.path);
    }
    packages.push({
      name: cur.name,
      files,
      shipped,
      scripted: [...cur.scripted],
      units,
      accounts: cur.accounts,
    });
  };
  for (const line of lines) {
    const tag = line.slice(0, 2);
    const body = line.slice(2);
    if (line.startsWith('pkg ')) {
      flush();
      cur = {
        name: line.slice(4),
        listed: [],
        conf: new Set(),
        bytes: new Map(),
        scripted: new Set(),
        accounts: false,
      };
    } else if (cur === undefined) continue;
    else if (tag === 'c ') {
      const l = parseListing(body);
      if (l !== null) cur.listed.push(l);
    } else if (tag === 'f ') cur.conf.add(body);
    else if (tag === 's ') cur.scripted.add(body.replace(/\/+$/, '') || '/');
    else if (line === 'a') cur.accounts = true;
    else if (tag === 'b ') {
      const sp = body.lastIndexOf(' ');
      cur.bytes.set(body.slice(0, sp), Buffer.from(body.slice(sp + 1), 'base64'));
    }
  }
  flush();
  return { packages };
}

function fact(l: Listed, sum: string | null): FileFact {
  return {
    path: l.path,
    exists: true,
    type: l.type,
    mode: l.mode,
    owner: l.owner,
    group: l.group,
    size: l.type === 'file' ? l.size : null,
    sha256: sum,
    mtime: null,
  };
}
