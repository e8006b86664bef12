import {
  ConfigError,
  defineTask,
  fact,
  MASK,
  sha256,
  sh,
  joinScripts,
  Type,
  type Script,
  type Change,
  type CommandFact,
  type DiffPart,
  type FactQuery,
  type FileFact,
  type PackageContentsFact,
  type PackagesFact,
  type PackageState,
  type Static,
  type Step,
  factEffect,
  PackageName,
} from 'fleetbook';
import { ETC_FUNCTIONS } from './apt-etc.ts';
import { aptCandidate, aptIndexChange } from './apt-candidate.ts';

const DebconfType = Type.Union([
  Type.Literal('string'),
  Type.Literal('boolean'),
  Type.Literal('select'),
  Type.Literal('multiselect'),
  Type.Literal('password'),
  Type.Literal('note'),
  Type.Literal('text'),
  Type.Literal('title'),
]);

const Answer = Type.Object(
  {
    package: PackageName,
    question: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9+.-]*/[A-Za-z0-9_.+/-]+$',
      description: 'a debconf question such as "postfix/mailname"',
    }),
    type: DebconfType,
    value: Type.String({
      pattern: '^[^\\n\\r]*$',
      description: 'a one-line value',
      doc: 'One line; booleans are "true" / "false".',
    }),
    sensitive: Type.Optional(
      Type.Boolean({
        doc: 'Never show the value (implied for type "password"); only a hash of the live value leaves the host.',
      }),
    ),
  },
  { additionalProperties: false },
);

/** A package, or a package at a version: `tree`, `tree=2.1.0-1`. */
const PackageSpec = Type.String({
  pattern: '^[a-z0-9][a-z0-9+.-]+(=[0-9][A-Za-z0-9.+~:-]*)?$',
  description: 'a Debian package name, or NAME=VERSION',
});

const Params = Type.Object(
  {
    packages: Type.Array(PackageSpec, {
      minItems: 1,
      uniqueItems: true,
      doc: 'The packages, installed (or purged) in one apt-get call. NAME=VERSION pins one to that version: installed at it, upgraded or downgraded to it (undo puts the old version back).',
    }),
    state: Type.Optional(
      Type.Union([Type.Literal('present'), Type.Literal('latest'), Type.Literal('absent')], {
        default: 'present',
        doc: 'latest: installed, and upgraded to the newest version the package index offers (held packages stay), which check mode names; when the index is stale it is refreshed first, and check mode says the upgrade happens if the refreshed index has a newer version. absent purges the packages.',
      }),
    ),
    updateCacheMaxAgeSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        default: 3600,
        doc: 'Refresh the package index first only if it is older than this; 0 always refreshes.',
      }),
    ),
    preseed: Type.Optional(
      Type.Array(Answer, {
        doc: 'debconf answers set (debconf-set-selections) before installing; `sensitive` ones are never shown.',
      }),
    ),
    dpkgLockTimeoutSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        default: 120,
        doc: 'How long to wait for another apt/dpkg run to finish.',
      }),
    ),
    installRecommends: Type.Optional(
      Type.Boolean({ default: false, doc: 'Install Recommends too.' }),
    ),
    hold: Type.Optional(
      Type.Boolean({
        doc: 'true: apt-mark hold, so upgrades leave the packages at their version; false: unhold. Left out: not managed.',
      }),
    ),
  },
  {
    additionalProperties: false,
    doc: 'Debian packages installed (or purged) with apt-get; the index is refreshed only when stale, and undo purges the packages the run installed, the dependencies they brought included.',
  },
);
export type AptInstallParams = Static<typeof Params>;
type Answer = Static<typeof Answer>;

/** apt-get update touches this (see UPDATE below); lists/partial changes on every update that downloads. */
const STAMP = '/var/lib/apt/periodic/update-success-stamp';
const PARTIAL = '/var/lib/apt/lists/partial';
const DPKG_OPTS = sh`-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold`;

/**
 * Shell functions every apt step starts with. `fb_apt ARGS` runs apt-get non-interactively, waiting
 * for the dpkg/apt locks up to the timeout (apt's own DPkg::Lock::Timeout for the dpkg lock, a retry
 * loop for the others); when it gives up it names the holder, found through /proc/locks (the
 * process holding a lock on the lock file's inode) or else /proc/PID/fd — no fuser or ps, which
 * minbase lacks. `fb_apt` leaves apt's stderr in $fb_out.
 */
function aptFunctions(timeout: number): Script {
  return sh`fb_holder_of() {
  l=$1
  [ -e "$l" ] || return 1
  ino=$(stat -c %i -- "$l" 2>/dev/null) || return 1
  pid=$(awk -v ino="$ino" '$2 != "->" && $5 > 0 { n = split($6, a, ":"); if (a[n] == ino) { print $5; exit } }' /proc/locks 2>/dev/null)
  [ -n "$pid" ] || pid=$(ls -l /proc/[0-9]*/fd 2>/dev/null | awk -v l="$l" '/^\\/proc\\/[0-9]+\\/fd:$/ { split($0, a, "/"); p = a[3]; next } length($0) > length(l) + 4 && substr($0, length($0) - length(l) - 3) == " -> " l { print p; exit }')
  [ -n "$pid" ] || return 1
  cmd=$(tr '\\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-120)
  echo "$2 held by pid $pid (\${cmd% })"
}
fb_holder() {
  fb_holder_of /var/lib/dpkg/lock-frontend 'dpkg lock' || fb_holder_of /var/lib/dpkg/lock 'dpkg lock' ||
    fb_holder_of /var/lib/apt/lists/lock 'apt lists lock' || fb_holder_of /var/cache/apt/archives/lock 'apt archives lock'
}
fb_apt() {
  # +1: the clock has whole seconds, so a deadline of now + N could come after less than N s
  fb_end=$(( $(date +%s) + ${timeout} + 1 ))
  fb_err=$(mktemp) || return 1
  while :; do
    fb_left=$(( fb_end - $(date +%s) )); [ "$fb_left" -gt 0 ] || fb_left=0
    LC_ALL=C DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout="$fb_left" "$@" 2>"$fb_err"
    fb_rc=$?
    fb_out=$(cat "$fb_err")
    fb_locked=no
    if [ "$fb_rc" -ne 0 ] && grep -q -e 'Could not get lock' -e 'Unable to acquire' -e 'Unable to lock' "$fb_err"; then fb_locked=yes; fi
    if [ "$fb_locked" = yes ] && [ "$(date +%s)" -lt "$fb_end" ]; then sleep 2; continue; fi
    rm -f "$fb_err"
    [ -z "$fb_out" ] || printf '%s\\n' "$fb_out" >&2
    if [ "$fb_locked" = yes ]; then
      echo "$(fb_holder || echo 'dpkg lock held by another process'); gave up after waiting ${timeout} s (dpkgLockTimeoutSeconds)" >&2
    fi
    return "$fb_rc"
  done
}
fb_units_of() {
  dpkg-query -L -- "$@" 2>/dev/null | sed -n 's#^/\\(usr/\\)\\{0,1\\}lib/systemd/system/\\([^/]*\\.service\\)$#\\2#p' | sort -u
}
fb_stop_units() {
  [ -d /run/systemd/system ] || return 0
  fb_u=$(fb_units_of "$@")
  [ -n "$fb_u" ] || return 0
  # Template units (postfix@.service) stand for their running instances (postfix@-.service).
  set -f; systemctl stop -- $(printf '%s\\n' $fb_u | sed 's/@\\.service$/@*.service/') 2>/dev/null; set +f
  return 0
}
fb_removed_by() {
  apt-get -s -q -o Debug::NoLocking=1 "$@" 2>/dev/null | sed -n 's/^Remv \\([^ ]*\\) .*/\\1/p'
}
fb_installed() {
  dpkg-query -W -f='\${db:Status-Abbrev} \${Package}:\${Architecture}=\${Version}\n' 2>/dev/null | awk '$1 ~ /^ii/ { print $2 }' | LC_ALL=C sort
}
fb_record() {
  sed 's/=.*//' "$1.before" | LC_ALL=C sort > "$1.bn"; sed 's/=.*//' "$1.after" | LC_ALL=C sort > "$1.an"
  comm -13 "$1.bn" "$1.an" > "$1"
  comm -23 "$1.before" "$1.after" > "$1.restore"
  rm -f -- "$1.before" "$1.after" "$1.bn" "$1.an"
}
fb_reset_gone() {
  [ -d /run/systemd/system ] || return 0
  systemctl list-units --all --state=failed --no-legend --plain 2>/dev/null | awk '$2 == "not-found" { print $1 }' | xargs -r systemctl reset-failed -- 2>/dev/null
  return 0
}
`;
}

/**
 * What an install changed in dpkg's state, kept on the host for its undo: the packages it added
 * (automatic dependencies included), one `name:arch` a line, and beside it (`.restore`) the
 * `name:arch=version` of those it removed (a conflicting MTA) or upgraded, as they were.
 */
const RECORDS = '/var/lib/fleetbook/installs';

function installRecord(packages: readonly string[]): string {
  return `${RECORDS}/${sha256(packages.join(' ')).slice(0, 16)}`;
}

/** apt-get update, then the stamp the freshness check reads (apt itself keeps no "last updated" time). */
const UPDATE = sh`fb_apt update && mkdir -p /var/lib/apt/periodic && touch ${STAMP}`;

function isSensitive(a: Answer): boolean {
  return a.sensitive === true || a.type === 'password';
}

/**
 * Reads each answer from debconf's own database files (read-only, no lock, no debconf-utils):
 * `debconf-show` hides password values and lists only questions a package already owns, so a value
 * preseeded before the install would look unset. Prints `INDEX<TAB>absent|unset|value<TAB>VALUE`;
 * sensitive values are replaced by their sha256 on the host, so they never reach the controller.
 */
function debconfProbe(answers: readonly Answer[]): Script {
  const lines = [
    sh`set --; for f in /var/cache/debconf/config.dat /var/cache/debconf/passwords.dat; do [ -r "$f" ] && set -- "$@" "$f"; done`,
    sh`fb_q() { [ "$#" -gt 1 ] || { echo absent; return; }; q=$1; shift; awk -v q="$q" 'BEGIN { RS = ""; FS = "\\n" } $1 == "Name: " q { reg = 1; for (i = 2; i <= NF; i++) if (substr($i, 1, 6) == "Value:") { v = substr($i, 7); sub(/^ /, "", v); has = 1 } } END { if (has) print "value\\t" v; else if (reg) print "unset"; else print "absent" }' "$@"; }`,
  ];
  answers.forEach((a, i) => {
    const read = sh`r=$(fb_q ${a.question} "$@")`;
    if (isSensitive(a)) {
      lines.push(
        sh`${read}; case "$r" in value*) printf '%s\tvalue\t%s\n' ${i} "$(printf '%s' "\${r#value?}" | sha256sum | cut -c1-64)" ;; *) printf '%s\t%s\n' ${i} "$r" ;; esac`,
      );
    } else {
      lines.push(sh`${read}; printf '%s\t%s\n' ${i} "$r"`);
    }
  });
  return joinScripts(lines);
}

interface Current {
  readonly state: 'absent' | 'unset' | 'value';
  /** The value, or its sha256 for a sensitive answer. */
  readonly value: string | null;
}

function parseDebconf(out: CommandFact | undefined, count: number): Current[] | null {
  if (out === undefined || out.code !== 0) return null;
  const found: (Current | undefined)[] = new Array<Current | undefined>(count);
  for (const line of out.stdout.split('\n')) {
    const [index, state, ...rest] = line.split('\t');
    const i = Number(index);
    if (!Number.isInteger(i) || i < 0 || i >= count) continue;
    if (state === 'value') found[i] = { state, value: rest.join('\t') };
    else if (state === 'unset' || state === 'absent') found[i] = { state, value: null };
  }
  const complete = found.filter((f) => f !== undefined);
  return complete.length === count ? complete : null;
}

function lastUpdate(facts: readonly (FileFact | undefined)[]): number | null {
  const times = facts
    .filter((f): f is FileFact => f?.exists === true && f.mtime !== null)
    .map((f) => f.mtime as number);
  return times.length === 0 ? null : Math.max(...times);
}

function age(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

function debconfChange(answers: readonly Answer[], current: readonly Current[]): Change | null {
  const diff: DiffPart[] = [];
  const set: string[] = [];
  const restore: string[] = [];
  const changed = new Set<number>();
  let unrestorable = 0;
  answers.forEach((a, i) => {
    const cur = current[i];
    if (cur === undefined) return;
    const secret = isSensitive(a);
    const want = secret ? sha256(a.value) : a.value;
    if (cur.state === 'value' && cur.value === want) return;
    const before = cur.state !== 'value' ? '(unset)' : secret ? MASK : (cur.value ?? '');
    diff.push({
      kind: 'attr',
      subject: `debconf ${a.package}`,
      field: a.question,
      before,
      after: secret ? MASK : a.value,
    });
    set.push(`${a.package} ${a.question} ${a.type} ${a.value}`);
    changed.add(i);
    // Old values can be put back only when the controller knows them: not secrets (only their hash
    // left the host), and not questions that had no value.
    if (cur.state === 'value' && !secret)
      restore.push(`${a.package} ${a.question} ${a.type} ${cur.value ?? ''}`);
    else unrestorable++;
  });
  if (set.length === 0) return null;
  const owners = [...new Set(answers.filter((_, i) => changed.has(i)).map((a) => a.package))];
  const stdin = (lines: string[]) => `${lines.join('\n')}\n`;
  const undo: Step[] =
    restore.length === 0
      ? []
      : [
          {
            op: 'run',
            describe: `debconf-set-selections (restore ${restore.length} answers)`,
            script: sh`debconf-set-selections`,
            stdin: stdin(restore),
          },
        ];
  return {
    summary:
      `set ${set.length} debconf answer${set.length === 1 ? '' : 's'} for ${owners.join(', ')}` +
      (unrestorable > 0
        ? ` (${unrestorable} previous value${unrestorable === 1 ? '' : 's'} cannot be restored by undo)`
        : ''),
    diff,
    // The values travel on stdin, never in the script or its description.
    steps: [
      {
        op: 'run',
        describe: `debconf-set-selections (${set.length} answers)`,
        script: sh`debconf-set-selections`,
        stdin: stdin(set),
      },
    ],
    undo,
    effects: [],
  };
}

/** `+ package tree`, `+ package tree (2.1.0-1)`, `~ package tree 2.0.0-1 -> 2.1.0-1`. */
function installDiff(spec: string, now: PackageState): DiffPart {
  const want = versionOf(spec);
  const name = nameOf(spec);
  if (now.installed)
    return {
      kind: 'item',
      sign: '~',
      text: `package ${name} ${now.version ?? '?'} -> ${want ?? 'the newest the refreshed index offers, if newer'}`,
    };
  return { kind: 'item', sign: '+', text: `package ${name}${want === null ? '' : ` (${want})`}` };
}

/** apt-mark hold (or unhold) for the packages not so yet; undo marks them back. */
function holdChange(
  names: readonly string[],
  hold: boolean,
  state: (name: string) => PackageState,
): Change | null {
  const todo = names.filter((n) => (state(n).held === true) !== hold);
  if (todo.length === 0) return null;
  const verb = hold ? 'hold' : 'unhold';
  const back = hold ? 'unhold' : 'hold';
  return {
    summary: `${verb} package${todo.length === 1 ? '' : 's'} ${todo.join(', ')}`,
    diff: todo.map((n): DiffPart => ({ kind: 'item', sign: '~', text: `apt-mark ${verb} ${n}` })),
    steps: [
      {
        op: 'run',
        describe: `apt-mark ${verb} ${todo.join(' ')}`,
        script: sh`apt-mark ${verb} -- ${todo} >/dev/null`,
      },
    ],
    undo: [
      {
        op: 'run',
        describe: `apt-mark ${back} ${todo.join(' ')}`,
        script: sh`apt-mark ${back} -- ${todo} >/dev/null`,
      },
    ],
    effects: [
      {
        kind: 'packages',
        packages: Object.fromEntries(todo.map((n) => [n, { ...state(n), held: hold }])),
      },
    ],
  };
}

const nameOf = (spec: string): string => spec.split('=')[0] ?? spec;
const versionOf = (spec: string): string | null => spec.split('=')[1] ?? null;

/**
 * What `state: latest` upgrades of the installed packages: each to its candidate (`NAME=VERSION`,
 * so the run installs the version check mode named), or, when the index is refreshed first, by
 * name (apt-get install upgrades it if the refreshed index has a newer one). Held ones stay.
 * A string: why the versions cannot be known in check mode (an earlier task refreshes the index).
 */
function latestUpgrades(
  packages: readonly string[],
  state: (name: string) => PackageState,
  facts: Readonly<Record<string, unknown>>,
  stale: boolean,
): string[] | string {
  const installed = packages.filter((n) => state(n).installed && state(n).held !== true);
  const changedBy = facts.indexChange as string;
  if (installed.length > 0 && changedBy !== '')
    return `the package index is changed before this task (${changedBy}): the versions it will offer ${installed.join(', ')} are not known yet`;
  if (stale) return installed;
  return installed.flatMap((n) => {
    const candidate = facts[`candidate:${n}`] as string | null;
    return candidate === null || candidate === state(n).version ? [] : [`${n}=${candidate}`];
  });
}

interface Prepared {
  /** Seconds since the epoch on the controller at prepare: what the index age is measured against. */
  readonly now: number;
}

/**
 * Debian packages present (installed non-interactively, keeping existing config files) or absent.
 * Waits for a running apt/dpkg, and names it if it does not finish in time.
 */
export const aptInstall = defineTask({
  type: 'aptInstall',
  params: Params,
  check: (params) => {
    const task = `aptInstall "${params.packages.join(' ')}"`;
    if (params.state === 'absent' && params.packages.some((n) => n.includes('=')))
      throw new ConfigError(
        'a version (NAME=VERSION) only applies when installing (state: present)',
        {
          task,
          field: 'packages',
        },
      );
    if (params.state === 'latest' && params.packages.some((n) => n.includes('=')))
      throw new ConfigError(
        'a version (NAME=VERSION) pins the package, and latest follows the package index: give one or the other',
        { task, field: 'packages' },
      );
    if (params.state === 'latest' && params.hold === true)
      throw new ConfigError(
        'hold: true keeps the packages at their version, and latest upgrades them: give one or the other',
        { task, field: 'hold' },
      );
    if (params.state === 'absent' && params.hold !== undefined)
      throw new ConfigError('hold only applies when installing (state: present)', {
        task,
        field: 'hold',
      });
    const names = params.packages.map(nameOf);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined)
      throw new ConfigError(`${twice} is listed twice`, { task, field: 'packages' });
    if (params.state === 'absent' && (params.preseed ?? []).length > 0) {
      throw new ConfigError('preseed answers only apply when installing (state: present)', {
        task,
        field: 'preseed',
      });
    }
  },
  describe: (p) => p.packages.join(' '),
  // The controller's clock, read once before any host is touched, keeps the plan pure.
  prepare: (): Prepared => ({ now: Math.floor(Date.now() / 1000) }),
  probe: (p) => {
    const spec: Record<string, FactQuery> = {
      packages: fact.packages(p.packages.map(nameOf)),
      stamp: fact.file(STAMP),
      partial: fact.file(PARTIAL),
    };
    const answers = p.preseed ?? [];
    if (answers.length > 0) spec.debconf = fact.command(debconfProbe(answers));
    // Check mode only: what the install would put on the host, for the tasks after it.
    if (p.state !== 'absent')
      spec.contents = fact.packageContents(p.packages, p.installRecommends === true);
    if (p.state === 'latest') {
      for (const n of p.packages) spec[`candidate:${n}`] = aptCandidate(n);
      spec.indexChange = aptIndexChange(null);
    }
    return spec;
  },
  plan: (p, facts, prepared) => {
    const pkgs = facts.packages as PackagesFact;
    const state = (name: string): PackageState => pkgs[name] ?? { installed: false, version: null };
    const timeout = p.dpkgLockTimeoutSeconds ?? 120;
    const apt = aptFunctions(timeout);
    const recommends = p.installRecommends === true ? [] : ['--no-install-recommends'];
    const changes: Change[] = [];

    if (p.state === 'absent') {
      const present = p.packages.filter((n) => state(n).installed);
      if (present.length === 0) return { status: 'ok' };
      const pinned = present.map((n) => {
        const v = state(n).version;
        return v === null ? n : `${n}=${v}`;
      });
      changes.push({
        summary: `remove package${present.length === 1 ? '' : 's'} ${present.join(', ')}`,
        diff: present.map((n): DiffPart => ({
          kind: 'item',
          sign: '-',
          text: `package ${n}${state(n).version !== null ? ` (${state(n).version})` : ''}`,
        })),
        steps: [
          {
            op: 'run',
            describe: `apt-get remove ${present.join(' ')}`,
            // Their services are stopped first, and waited for: a package's prerm may return
            // before an instance unit (postfix@-) has stopped, which then fails as dpkg removes its
            // files, leaving the host degraded.
            script: sh`${apt}fb_stop_units ${present}\nfb_apt remove -y ${DPKG_OPTS} -- ${present}; fb_rc=$?; fb_reset_gone; exit $fb_rc`,
          },
        ],
        // The version that was installed; if the mirror no longer has it, the undo fails and says so.
        undo: [
          {
            op: 'run',
            describe: `apt-get install ${pinned.join(' ')}`,
            script: sh`${apt}fb_apt install -y --no-install-recommends ${DPKG_OPTS} -- ${pinned}`,
          },
        ],
        effects: [
          {
            kind: 'packages',
            packages: Object.fromEntries(
              present.map((n) => [n, { installed: false, version: null }]),
            ),
          },
        ],
      });
      return { status: 'change', changes };
    }

    const answers = p.preseed ?? [];
    if (answers.length > 0) {
      const current = parseDebconf(facts.debconf as CommandFact | undefined, answers.length);
      if (current === null) {
        const out = facts.debconf as CommandFact | undefined;
        return {
          status: 'fail',
          message: `could not read the current debconf answers (exit ${out?.code ?? '?'}): ${out?.stdout.trim().split('\n')[0] ?? 'no output'}`,
        };
      }
      const dc = debconfChange(answers, current);
      if (dc !== null) changes.push(dc);
    }

    const maxAge = p.updateCacheMaxAgeSeconds ?? 3600;
    const last = lastUpdate([facts.stamp as FileFact, facts.partial as FileFact]);
    const stale = last === null || prepared.now - last > maxAge || maxAge === 0;
    // What apt-get install is given: a package missing, or installed at another version than pinned.
    let missing = p.packages.filter((spec) => {
      const now = state(nameOf(spec));
      const want = versionOf(spec);
      return !now.installed || (want !== null && now.version !== want);
    });
    if (p.state === 'latest') {
      const upgrades = latestUpgrades(p.packages, state, facts, stale);
      if (typeof upgrades === 'string') return { status: 'unknown', reason: upgrades };
      missing = [...missing, ...upgrades];
    }
    // A version asked for by name is what the user wants, held or not (latest's are never held).
    const pinned = p.state !== 'latest' && missing.some((spec) => versionOf(spec) !== null);
    // Installed at another version: the undo puts that version back (from the install's record).
    const upgraded = missing
      .filter((spec) => state(nameOf(spec)).installed)
      .map((spec) => `${nameOf(spec)} ${state(nameOf(spec)).version ?? '?'}`);
    if (missing.length > 0) {
      if (stale) {
        const why =
          last === null
            ? 'never updated'
            : `updated ${age(Math.max(0, prepared.now - last))} ago, max ${age(maxAge)}`;
        changes.push({
          summary: `refresh the apt package index (${why})`,
          diff: [{ kind: 'item', sign: '~', text: `apt-get update (${why})` }],
          steps: [{ op: 'run', describe: 'apt-get update', script: sh`${apt}${UPDATE}` }],
          // A newer index changes nothing installed; there is nothing to put back.
          undo: [],
          effects: [
            {
              kind: 'file',
              fact: {
                path: STAMP,
                exists: true,
                type: 'file',
                mode: '0644',
                owner: 'root',
                group: 'root',
                size: 0,
                sha256: sha256(''),
                mtime: prepared.now,
              },
            },
            factEffect(aptIndexChange(null), 'an earlier aptInstall refreshes it'),
          ],
        });
      }
      // If the index was judged fresh but does not know a package (e.g. lists emptied by an image
      // build), refresh once and retry rather than fail on a stale judgement.
      const downgrades = pinned ? ['--allow-downgrades', '--allow-change-held-packages'] : [];
      const install = sh`fb_apt install -y ${[...recommends, ...downgrades]} ${DPKG_OPTS} -- ${missing}`;
      const retry = stale
        ? sh`${install}`
        : sh`if ! ${install}; then\n  case "$fb_out" in\n    *'Unable to locate package'*|*'has no installation candidate'*) echo 'retrying after apt-get update' >&2; ${UPDATE} && ${install} ;;\n    *) false ;;\n  esac\nfi`;
      // Packages the install replaces (a conflicting MTA) are stopped cleanly first, as for a removal.
      // dpkg's state before and after is recorded for the undo, even when the install failed midway.
      // latest's by-name upgrade of an installed package must not take the record of its install.
      const rec = installRecord(p.state === 'latest' ? ['state=latest', ...missing] : missing);
      // $fb_new: what the install added, as recorded (the named packages when there is no record).
      const added = sh`fb_new=${missing.map(nameOf).join('\n')}; [ ! -f ${rec} ] || fb_new=$(cat ${rec})`;
      const script = sh`${apt}${ETC_FUNCTIONS}mkdir -p -m 0700 ${RECORDS}; fb_installed > ${`${rec}.before`}; fb_etc_before ${rec}
fb_rm=$(fb_removed_by install ${missing}); [ -z "$fb_rm" ] || fb_stop_units $fb_rm\n${retry}\nfb_rc=$?
fb_installed > ${`${rec}.after`}; fb_record ${rec}; fb_etc_record ${rec}; fb_reset_gone; exit $fb_rc`;
      changes.push({
        summary: `install package${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`,
        diff: missing.map((spec): DiffPart => installDiff(spec, state(nameOf(spec)))),
        steps: [{ op: 'run', describe: `apt-get install ${missing.join(' ')}`, script }],
        // Purged, not removed: they were absent, config files included; so are the dependencies the
        // install pulled in, as dpkg's state before and after it says (only those still installed).
        // What it removed or upgraded is installed again at the version it had, where the mirror
        // still has it (else the undo fails, and says so). Then what its maintainer scripts did to
        // /etc is put back (apt-etc.ts).
        undo: [
          {
            op: 'run',
            describe: `apt-get purge ${missing.map(nameOf).join(' ')} and the dependencies installed with them${upgraded.length > 0 ? `; ${upgraded.join(', ')} back` : ''}`,
            script: sh`${apt}${ETC_FUNCTIONS}${added}
fb_new=$(printf '%s\n' $fb_new | while IFS= read -r p; do dpkg-query -W -f='\${db:Status-Abbrev}\n' -- "$p" 2>/dev/null | grep -q '^ii' && echo "$p"; done)
fb_rc=0
if [ -n "$fb_new" ]; then fb_stop_units $fb_new; fb_apt purge -y -- $fb_new || fb_rc=$?; fi
if [ "$fb_rc" = 0 ] && [ -s ${`${rec}.restore`} ]; then fb_apt install -y --no-install-recommends --allow-downgrades ${DPKG_OPTS} -- $(cat ${`${rec}.restore`}) || fb_rc=$?; fi
[ "$fb_rc" != 0 ] || fb_etc_undo ${rec} || fb_rc=$?
[ "$fb_rc" != 0 ] || rm -f -- ${rec} ${`${rec}.restore`}
fb_reset_gone; exit $fb_rc`,
            // For rollback --check: the purged packages' files (units included) are gone after it.
            removes: sh`${added}; dpkg-query -L -- $fb_new 2>/dev/null || true`,
          },
        ],
        effects: [
          {
            kind: 'packages',
            packages: Object.fromEntries(
              missing.map((spec) => [
                nameOf(spec),
                { ...state(nameOf(spec)), installed: true, version: versionOf(spec) },
              ]),
            ),
          },
          { kind: 'installs', contents: facts.contents as PackageContentsFact },
        ],
      });
    }
    const hold = p.hold === undefined ? null : holdChange(p.packages.map(nameOf), p.hold, state);
    if (hold !== null) changes.push(hold);
    return changes.length === 0 ? { status: 'ok' } : { status: 'change', changes };
  },
});
