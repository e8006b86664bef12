import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ConfigError,
  MASK,
  sha256,
  type Change,
  type CommandFact,
  type Fact,
  type PackageContentsFact,
  type FactQuery,
  type PackagesFact,
  type Plan,
} from '../../src/index.ts';
import { buildProbeScript } from '../../src/core/probe-script.ts';
import { raw } from '../../src/core/shell.ts';
import { aptInstall } from '../../tasks/aptInstall.ts';
import { absent, file, plain, planFrom, planRows, type Answer } from './fixtures.ts';
import { parseCandidates } from '../../tasks/apt-candidate.ts';
import { readFileSync } from 'node:fs';

const NOW = 1_700_000_000;
const STAMP = '/var/lib/apt/periodic/update-success-stamp';

interface HostState {
  installed?: Record<string, string>;
  /** Packages on hold (apt-mark hold). */
  held?: string[];
  /** mtime of the update stamp; undefined = absent */
  stamp?: number;
  partial?: number;
  debconf?: CommandFact;
  contents?: PackageContentsFact;
  /** What apt-cache policy says apt would install (state: latest). */
  candidates?: Record<string, string | null>;
  /** Why an earlier task of the run changes the index (check mode); '' or undefined: none. */
  indexChange?: string;
}

const fileAt = (p: string, mtime: number | undefined) =>
  mtime === undefined ? absent(p) : file(p, '', { sha256: null, mtime }, 'none');

const answer =
  (state: HostState): Answer =>
  (q: FactQuery) => {
    if (q.kind === 'packages')
      return Object.fromEntries(
        q.names.map((n) => {
          const v = state.installed?.[n];
          const held = state.held?.includes(n) === true ? { held: true } : {};
          return [n, { installed: v !== undefined, version: v ?? null, ...held }];
        }),
      ) satisfies PackagesFact;
    if (q.kind === 'file') return fileAt(q.path, q.path === STAMP ? state.stamp : state.partial);
    if (q.kind === 'command') return state.debconf ?? assert.fail('unexpected debconf probe');
    if (q.kind === 'packageContents') return state.contents ?? { packages: [] };
    if (q.kind === 'custom' && q.def.kind === 'aptCandidate')
      return (state.candidates?.[q.arg as string] ?? null) as unknown as Fact;
    if (q.kind === 'custom' && q.def.kind === 'aptIndexChange')
      return (state.indexChange ?? '') as unknown as Fact;
    return undefined;
  };

function plan(params: Parameters<typeof aptInstall>[0], state: HostState = {}): Plan {
  return planFrom(aptInstall(params), { now: NOW }, answer(state));
}

function changes(p: Plan): readonly Change[] {
  assert.equal(p.status, 'change', JSON.stringify(p));
  return p.status === 'change' ? p.changes : [];
}
const script = (c: Change | undefined, i = 0): string => {
  const s = c?.steps[i];
  return s?.op === 'run' ? s.script.text : assert.fail('expected a run step');
};
/** The command line at the end of a step script (after the shared shell functions). */
const tail = (s: string): string => s.slice(s.lastIndexOf('\n}\n') + 3);

test('params are checked when the task is built', () => {
  assert.throws(
    // @ts-expect-error a misspelled parameter must not compile (and fails validation at run time)
    () => aptInstall({ packages: ['nginx'], stat: 'absent' }),
    /stat: unknown field \(did you mean "state"\?\)/,
  );
  assert.throws(
    () => aptInstall({ packages: ['nginx'], state: 'newest' as 'present' }),
    /state: expected one of "present", "latest", "absent", got "newest"/,
  );
  assert.throws(
    () => aptInstall({ packages: [] }),
    /packages: expected value that must NOT have fewer than 1 items/,
  );
  assert.throws(
    () => aptInstall({ packages: ['nginx; rm -rf /'] }),
    /packages\.0: expected a Debian package name, or NAME=VERSION, got "nginx; rm -rf \/"/,
  );
  assert.throws(
    () =>
      aptInstall({
        packages: ['x'],
        preseed: [{ package: 'x', question: 'x/y', type: 'string', value: 'a\nb' }],
      }),
    /preseed\.0\.value: expected a one-line value, got "a\\nb"/,
  );
  assert.throws(
    () =>
      aptInstall({
        packages: ['postfix'],
        state: 'absent',
        preseed: [{ package: 'postfix', question: 'postfix/mailname', type: 'string', value: 'x' }],
      }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.source.field === 'preseed' &&
      /only apply when installing/.test(e.message),
  );
});

test('all installed -> ok', () => {
  assert.deepEqual(
    plan({ packages: ['nginx', 'curl'] }, { installed: { nginx: '1.22.1-9', curl: '7.88.1-10' } }),
    { status: 'ok' },
  );
});

test('missing packages, fresh index -> install only; undo purges; effects mark them installed', () => {
  const [c, ...more] = changes(
    plan(
      { packages: ['nginx', 'curl', 'git'] },
      { installed: { curl: '7.88' }, stamp: NOW - 600, contents: nginxContents },
    ),
  );
  assert.equal(more.length, 0, 'no apt-get update: the index is 10 min old');
  assert.equal(c?.summary, 'install packages nginx, git');
  assert.deepEqual(c?.diff, [
    { kind: 'item', sign: '+', text: 'package nginx' },
    { kind: 'item', sign: '+', text: 'package git' },
  ]);
  const s = script(c);
  assert.match(
    s,
    /LC_ALL=C DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout="\$fb_left" "\$@"/,
  );
  assert.match(
    s,
    /fb_apt install -y --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -- nginx git/,
  );
  // The index was judged fresh, so an unknown package triggers one refresh and a retry.
  assert.match(
    s,
    /\*'Unable to locate package'\*\|\*'has no installation candidate'\*\) .*fb_apt update && .*&& fb_apt install/,
  );
  // dpkg's state before and after the install is kept on the host for the undo ...
  const rec = /fb_installed > (\/var\/lib\/fleetbook\/installs\/[0-9a-f]{16})\.before;/.exec(
    s,
  )?.[1];
  assert.ok(rec !== undefined, s);
  assert.match(
    s,
    new RegExp(
      `\\nfb_installed > ${rec}\\.after; fb_record ${rec}; fb_etc_record ${rec}; fb_reset_gone`,
    ),
  );
  // ... with what its maintainer scripts did to /etc (see apt-etc.test.ts)
  assert.match(s, new RegExp(`fb_installed > ${rec}\\.before; fb_etc_before ${rec}\\n`));
  // ... which purges what the install added, dependencies included (the named packages when
  // there is no record), stopping their services first, and restores what it removed or upgraded
  const undo = tail(script(c?.undo[0] ? { ...c, steps: c.undo } : undefined));
  assert.match(
    undo,
    new RegExp(`^fb_new='nginx\ngit'; \\[ ! -f ${rec} \\] \\|\\| fb_new=\\$\\(cat ${rec}\\)\n`),
  );
  assert.match(undo, /fb_stop_units \$fb_new; fb_apt purge -y -- \$fb_new/);
  assert.match(undo, new RegExp(`--allow-downgrades .* -- \\$\\(cat ${rec}\\.restore\\)`));
  assert.match(
    undo,
    new RegExp(`\\[ "\\$fb_rc" != 0 \\] \\|\\| fb_etc_undo ${rec} \\|\\| fb_rc=\\$\\?\\n`),
  );
  // ... and, for check mode's later tasks, what the install would put on the host
  assert.deepEqual(c?.effects, [
    {
      kind: 'packages',
      packages: {
        nginx: { installed: true, version: null },
        git: { installed: true, version: null },
      },
    },
    { kind: 'installs', contents: nginxContents },
  ]);
});

const nginxContents: PackageContentsFact = {
  packages: [
    {
      name: 'nginx',
      files: [{ ...absent('/etc/nginx'), exists: true, type: 'directory', mode: '0755' }],
      shipped: ['/usr/sbin/nginx'],
      scripted: ['/etc/nginx/sites-enabled/default'],
      units: ['nginx.service'],
      accounts: false,
    },
  ],
};

test('what an install would add is read only for a real install, with apt-get -s and the recommends it uses', () => {
  const probe = (p: Parameters<typeof aptInstall>[0]) =>
    aptInstall(p).probe({ now: NOW }) as Record<string, FactQuery>;
  assert.deepEqual(probe({ packages: ['nginx', 'curl'] }).contents, {
    kind: 'packageContents',
    names: ['curl', 'nginx'],
    recommends: false,
  });
  assert.equal(
    probe({ packages: ['nginx'], installRecommends: true }).contents?.kind,
    'packageContents',
  );
  assert.equal(
    (probe({ packages: ['nginx'], installRecommends: true }).contents as { recommends?: boolean })
      .recommends,
    true,
  );
  assert.equal(probe({ packages: ['nginx'], state: 'absent' }).contents, undefined);
});

test('installRecommends: true drops --no-install-recommends', () => {
  const [c] = changes(plan({ packages: ['nginx'], installRecommends: true }, { stamp: NOW }));
  assert.doesNotMatch(script(c), /fb_apt install -y +--no-install-recommends/);
  assert.match(script(c), /fb_apt install -y +-o Dpkg::Options::=--force-confdef/);
});

test('stale or never-updated index -> apt-get update first, and the stamp it leaves is an effect', () => {
  const [update, install] = changes(
    plan({ packages: ['nginx'] }, { stamp: NOW - 7200, partial: NOW - 5000 }),
  );
  assert.equal(update?.summary, 'refresh the apt package index (updated 83 min ago, max 60 min)');
  assert.deepEqual(update?.diff, [
    { kind: 'item', sign: '~', text: 'apt-get update (updated 83 min ago, max 60 min)' },
  ]);
  assert.equal(
    tail(script(update)),
    `fb_apt update && mkdir -p /var/lib/apt/periodic && touch ${STAMP}`,
  );
  assert.deepEqual(update?.undo, []);
  assert.equal(update?.effects[0]?.kind === 'file' && update.effects[0].fact.mtime, NOW);
  assert.doesNotMatch(
    script(install),
    /Unable to locate package/,
    'no retry needed right after a refresh',
  );
  const [never] = changes(plan({ packages: ['nginx'] }));
  assert.equal(never?.summary, 'refresh the apt package index (never updated)');
  // updateCacheMaxAgeSeconds widens the window; the newest of the two marks counts.
  assert.equal(
    changes(plan({ packages: ['nginx'], updateCacheMaxAgeSeconds: 86400 }, { stamp: NOW - 7200 }))
      .length,
    1,
  );
  assert.equal(
    changes(plan({ packages: ['nginx'] }, { stamp: NOW - 7200, partial: NOW - 60 })).length,
    1,
  );
  assert.equal(
    changes(plan({ packages: ['nginx'], updateCacheMaxAgeSeconds: 0 }, { stamp: NOW })).length,
    2,
  );
});

test('the dpkg lock timeout is waited for and its holder named', () => {
  const [c] = changes(plan({ packages: ['nginx'], dpkgLockTimeoutSeconds: 300 }, { stamp: NOW }));
  const s = script(c);
  assert.match(s, /fb_end=\$\(\( \$\(date \+%s\) \+ 300 \+ 1 \)\)/);
  assert.match(s, /dpkg lock held by/);
  assert.match(s, /gave up after waiting 300 s \(dpkgLockTimeoutSeconds\)/);
  assert.match(s, /\/proc\/locks/);
  assert.doesNotMatch(s, /\b(fuser|ps|lsof) /, 'not in minbase');
});

/** Each change as `summary | diff | the apt command at the end of the step | undo describe`. */
const PIN_ROWS: readonly [
  string,
  Parameters<typeof aptInstall>[0],
  HostState,
  string | string[],
][] = [
  [
    'pinned, installed at that version',
    { packages: ['tree=2.1.0-1'] },
    { installed: { tree: '2.1.0-1' } },
    'ok',
  ],
  [
    'pinned, missing: installed at that version',
    { packages: ['tree=2.1.0-1', 'curl'] },
    { stamp: NOW },
    [
      'install packages tree=2.1.0-1, curl | + package tree (2.1.0-1); + package curl | fb_apt install -y --no-install-recommends --allow-downgrades --allow-change-held-packages -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -- tree=2.1.0-1 curl | apt-get purge tree curl and the dependencies installed with them',
    ],
  ],
  [
    'pinned, installed at another version: to that one (undo reinstalls the old, from the record)',
    { packages: ['tree=2.1.0-1'] },
    { installed: { tree: '2.0.2-1' }, stamp: NOW },
    [
      'install package tree=2.1.0-1 | ~ package tree 2.0.2-1 -> 2.1.0-1 | fb_apt install -y --no-install-recommends --allow-downgrades --allow-change-held-packages -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -- tree=2.1.0-1 | apt-get purge tree and the dependencies installed with them; tree 2.0.2-1 back',
    ],
  ],
  [
    'hold: installed, not held',
    { packages: ['tree'], hold: true },
    { installed: { tree: '2.1.0-1' } },
    [
      'hold package tree | ~ apt-mark hold tree | apt-mark hold -- tree >/dev/null | apt-mark unhold tree',
    ],
  ],
  [
    'hold: already held',
    { packages: ['tree'], hold: true },
    { installed: { tree: '2.1.0-1' }, held: ['tree'] },
    'ok',
  ],
  [
    'unhold',
    { packages: ['tree'], hold: false },
    { installed: { tree: '2.1.0-1' }, held: ['tree'] },
    [
      'unhold package tree | ~ apt-mark unhold tree | apt-mark unhold -- tree >/dev/null | apt-mark hold tree',
    ],
  ],
];

for (const [what, params, state, want] of PIN_ROWS)
  test(`versions and holds: ${what}`, (t) => {
    const p = plan(params, state);
    const got =
      p.status === 'ok'
        ? 'ok'
        : changes(p).map((c) =>
            [
              c.summary,
              c.diff.map((d) => (d.kind === 'item' ? `${d.sign} ${d.text}` : d.kind)).join('; '),
              /fb_apt install[^;\n]*|apt-mark [^\n]*/.exec(script(c))?.[0] ?? '',
              c.undo.map((u) => (u.op === 'run' ? u.describe : u.op)).join('; '),
            ].join(' | '),
          );
    t.diagnostic(JSON.stringify(got));
    assert.deepEqual(got, want);
  });

test('versions and holds: refused where they mean nothing', () => {
  assert.throws(
    () => aptInstall({ packages: ['tree=2.1.0-1'], state: 'absent' }),
    /a version \(NAME=VERSION\) only applies when installing/,
  );
  assert.throws(
    () => aptInstall({ packages: ['tree'], state: 'absent', hold: true }),
    /hold only applies when installing/,
  );
  assert.throws(() => aptInstall({ packages: ['tree', 'tree=2.1.0-1'] }), /tree is listed twice/);
  assert.throws(
    () => aptInstall({ packages: ['tree=latest'] }),
    /expected a Debian package name, or NAME=VERSION/,
  );
});

test('state absent -> remove; undo reinstalls the exact version', () => {
  const [c] = changes(
    plan({ packages: ['nginx', 'curl'], state: 'absent' }, { installed: { nginx: '1.22.1-9' } }),
  );
  assert.equal(c?.summary, 'remove package nginx');
  assert.deepEqual(c?.diff, [{ kind: 'item', sign: '-', text: 'package nginx (1.22.1-9)' }]);
  assert.match(
    tail(script(c)),
    /^fb_stop_units nginx\nfb_apt remove -y .* -- nginx; fb_rc=\$\?; fb_reset_gone; exit \$fb_rc$/,
  );
  assert.match(
    tail(c?.undo[0]?.op === 'run' ? c.undo[0].script.text : ''),
    /^fb_apt install -y --no-install-recommends .* -- nginx=1\.22\.1-9$/,
  );
  assert.deepEqual(c?.effects, [
    { kind: 'packages', packages: { nginx: { installed: false, version: null } } },
  ]);
  assert.deepEqual(plan({ packages: ['nginx'], state: 'absent' }), { status: 'ok' });
});

const debconf = (lines: string[]): CommandFact => ({ code: 0, stdout: `${lines.join('\n')}\n` });

test('preseed: only differing answers are set, on stdin, before the install; old values restored by undo', () => {
  const params = {
    packages: ['postfix'],
    preseed: [
      {
        package: 'postfix',
        question: 'postfix/mailname',
        type: 'string' as const,
        value: 'mail.example.com',
      },
      {
        package: 'postfix',
        question: 'postfix/main_mailer_type',
        type: 'select' as const,
        value: 'Internet Site',
      },
    ],
  };
  const [dc, install] = changes(
    plan(params, {
      stamp: NOW,
      debconf: debconf(['0\tvalue\told.example.com', '1\tvalue\tInternet Site']),
    }),
  );
  assert.equal(dc?.summary, 'set 1 debconf answer for postfix');
  assert.deepEqual(dc?.diff, [
    {
      kind: 'attr',
      subject: 'debconf postfix',
      field: 'postfix/mailname',
      before: 'old.example.com',
      after: 'mail.example.com',
    },
  ]);
  assert.deepEqual(plain(dc?.steps), [
    {
      op: 'run',
      describe: 'debconf-set-selections (1 answers)',
      script: 'debconf-set-selections',
      stdin: 'postfix postfix/mailname string mail.example.com\n',
    },
  ]);
  assert.deepEqual(plain(dc?.undo), [
    {
      op: 'run',
      describe: 'debconf-set-selections (restore 1 answers)',
      script: 'debconf-set-selections',
      stdin: 'postfix postfix/mailname string old.example.com\n',
    },
  ]);
  assert.equal(install?.summary, 'install package postfix');
  // Installed and answered -> ok.
  assert.deepEqual(
    plan(params, {
      installed: { postfix: '3.7' },
      debconf: debconf(['0\tvalue\tmail.example.com', '1\tvalue\tInternet Site']),
    }),
    { status: 'ok' },
  );
});

test('preseed: a sensitive answer never appears in the plan except on the step stdin', () => {
  const CANARY = 'hunter2-canary-Qx8';
  const params = {
    packages: ['mariadb-server'],
    preseed: [
      {
        package: 'mariadb-server',
        question: 'mysql-server/root_password',
        type: 'password' as const,
        value: CANARY,
      },
      {
        package: 'app',
        question: 'app/token',
        type: 'string' as const,
        value: `${CANARY}-2`,
        sensitive: true,
      },
    ],
  };
  const task = aptInstall(params);
  assert.doesNotMatch(
    JSON.stringify(task.probe({ now: NOW })),
    /hunter2/,
    'the probe compares hashes made on the host',
  );
  assert.doesNotMatch(task.title, /hunter2/);
  const p = plan(params, { stamp: NOW, debconf: debconf(['0\tvalue\tdeadbeef', '1\tunset']) });
  const [dc] = changes(p);
  assert.equal(
    dc?.steps[0]?.op === 'run' && dc.steps[0].stdin,
    `mariadb-server mysql-server/root_password password ${CANARY}\napp app/token string ${CANARY}-2\n`,
  );
  const rest = JSON.stringify(p, (k, v: unknown) => (k === 'stdin' ? '(stdin)' : v));
  assert.doesNotMatch(rest, /hunter2/);
  assert.deepEqual(dc?.diff, [
    {
      kind: 'attr',
      subject: 'debconf mariadb-server',
      field: 'mysql-server/root_password',
      before: MASK,
      after: MASK,
    },
    { kind: 'attr', subject: 'debconf app', field: 'app/token', before: '(unset)', after: MASK },
  ]);
  assert.deepEqual(dc?.undo, [], 'a secret that never left the host cannot be restored');
  assert.match(dc?.summary ?? '', /\(2 previous values cannot be restored by undo\)$/);
  // The same secret already set (hash matches) -> nothing to do.
  const same = plan(params, {
    installed: { 'mariadb-server': '1' },
    debconf: debconf([`0\tvalue\t${sha256(CANARY)}`, `1\tvalue\t${sha256(`${CANARY}-2`)}`]),
  });
  assert.deepEqual(same, { status: 'ok' });
});

test('unreadable debconf answers -> fail, not a guess', () => {
  const p = plan(
    {
      packages: ['postfix'],
      preseed: [{ package: 'postfix', question: 'postfix/mailname', type: 'string', value: 'x' }],
    },
    { debconf: { code: 2, stdout: 'awk: boom\n' } },
  );
  assert.deepEqual(p, {
    status: 'fail',
    message: 'could not read the current debconf answers (exit 2): awk: boom',
  });
});

// The shell parts, run for real with dash against stand-ins (no host, no root, nothing installed).
const haveShell =
  spawnSync('sh', ['-c', 'command -v dash && command -v flock'], { encoding: 'utf8' }).status === 0;

test(
  'debconf probe reads values, unset and absent questions from debconf database files',
  { skip: !haveShell && 'needs dash and flock' },
  () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fb-debconf-'));
    try {
      writeFileSync(
        path.join(dir, 'config.dat'),
        'Name: postfix/mailname\nTemplate: postfix/mailname\nValue: mail.example.com\nOwners: postfix\nVariables:\n Value: not-this\n\n' +
          'Name: postfix/relayhost\nTemplate: postfix/relayhost\nOwners: postfix\n\n' +
          'Name: mysql-server/root_password\nTemplate: mysql-server/root_password\nOwners: mariadb-server\n\n',
      );
      writeFileSync(
        path.join(dir, 'passwords.dat'),
        'Name: mysql-server/root_password\nValue: s3cret\nOwners: mariadb-server\n\n',
      );
      const task = aptInstall({
        packages: ['postfix'],
        preseed: [
          { package: 'postfix', question: 'postfix/mailname', type: 'string', value: 'x' },
          { package: 'postfix', question: 'postfix/relayhost', type: 'string', value: 'x' },
          { package: 'postfix', question: 'postfix/nothere', type: 'string', value: 'x' },
          {
            package: 'mariadb-server',
            question: 'mysql-server/root_password',
            type: 'password',
            value: 'x',
          },
        ],
      });
      const q = task.probe({ now: NOW }).debconf;
      assert.ok(q?.kind === 'command');
      const probe = buildProbeScript([
        { ...q, script: raw(q.script.text.replaceAll('/var/cache/debconf/', `${dir}/`)) },
      ]);
      const run = spawnSync('dash', ['-c', probe.script.text], { encoding: 'utf8' });
      const [fact] = probe.parse(run.stdout) as CommandFact[];
      assert.deepEqual(fact, {
        code: 0,
        stdout: `0\tvalue\tmail.example.com\n1\tunset\n2\tabsent\n3\tvalue\t${sha256('s3cret')}`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'apt-get waits for the lock, then names the process holding it',
  { skip: !haveShell && 'needs dash and flock' },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fb-aptlock-'));
    const lock = path.join(dir, 'lock-frontend');
    writeFileSync(lock, '');
    // A stand-in apt-get that fails the way apt does while someone holds the lock.
    writeFileSync(
      path.join(dir, 'apt-get'),
      `#!/bin/sh\nif flock -n ${lock} true; then echo "apt-get $*"; exit 0; fi\necho "E: Could not get lock ${lock}. It is held by process 1" >&2\nexit 100\n`,
    );
    chmodSync(path.join(dir, 'apt-get'), 0o755);
    // -o: only flock itself holds the lock (not its sleep child); its own process group, so both can be ended.
    const holder = spawn('flock', ['-o', lock, 'sleep', '30'], { stdio: 'ignore', detached: true });
    const stop = async () => {
      if (holder.exitCode !== null || holder.signalCode !== null || holder.pid === undefined)
        return;
      const exited = new Promise((r) => holder.once('exit', r));
      process.kill(-holder.pid, 'SIGTERM');
      await exited;
    };
    try {
      await new Promise((r) => setTimeout(r, 300));
      const [c] = changes(plan({ packages: ['nginx'], dpkgLockTimeoutSeconds: 1 }, { stamp: NOW }));
      const s = script(c).replaceAll('/var/lib/dpkg/lock-frontend', lock);
      const env = { ...process.env, PATH: `${dir}:${process.env['PATH'] ?? ''}` };
      const started = Date.now();
      const locked = spawnSync('dash', ['-c', s], { encoding: 'utf8', env });
      assert.equal(locked.status, 1);
      assert.ok(Date.now() - started >= 1000, 'it waited before giving up');
      assert.match(
        locked.stderr,
        new RegExp(
          `dpkg lock held by pid ${holder.pid} \\(flock -o ${lock.replaceAll('/', '\\/')} sleep 30\\); gave up after waiting 1 s \\(dpkgLockTimeoutSeconds\\)`,
        ),
      );
      await stop();
      const free = spawnSync('dash', ['-c', s], { encoding: 'utf8', env });
      assert.equal(free.status, 0, free.stderr);
      // apt waits for what is left of the time (whole seconds: 1 or 2)
      assert.match(
        free.stdout,
        /apt-get -q -o DPkg::Lock::Timeout=[12] install -y --no-install-recommends .* -- nginx/,
      );
    } finally {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('aptCandidate parses what a lab host printed (test/fixtures/custom-facts)', () => {
  const out = readFileSync('test/fixtures/custom-facts/aptCandidate.txt', 'utf8');
  assert.deepEqual(parseCandidates(out, ['tree', 'dma', 'nosuch-pkg', 'base-files']), [
    '2.1.0-1',
    '0.13-1+b1',
    null,
    '12.4+deb12u15',
  ]);
});

/** A plan as rows: each change's summary and diff lines. */
const latestRows = (p: Plan) =>
  planRows(p, (c) =>
    [c.summary, ...c.diff.map((d) => (d.kind === 'item' ? `${d.sign} ${d.text}` : d.kind))].join(
      ' | ',
    ),
  );

const FRESH = { stamp: NOW - 60 };
const LATEST: readonly [string, HostState, string | string[]][] = [
  [
    'installed at the candidate -> ok',
    { ...FRESH, installed: { tree: '2.1.0-2' }, candidates: { tree: '2.1.0-2' } },
    'ok',
  ],
  [
    'an older version installed -> upgraded to the candidate, by version',
    { ...FRESH, installed: { tree: '2.1.0-1' }, candidates: { tree: '2.1.0-2' } },
    ['install package tree=2.1.0-2 | ~ package tree 2.1.0-1 -> 2.1.0-2'],
  ],
  [
    'not installed -> installed',
    { ...FRESH, candidates: { tree: '2.1.0-2' } },
    ['install package tree | + package tree'],
  ],
  [
    'held -> left where it is',
    { ...FRESH, installed: { tree: '2.1.0-1' }, held: ['tree'], candidates: { tree: '2.1.0-2' } },
    'ok',
  ],
  [
    'no candidate (not in any repository now) -> left as it is',
    { ...FRESH, installed: { tree: '2.1.0-1' }, candidates: { tree: null } },
    'ok',
  ],
  [
    'a stale index -> refreshed, then upgraded if it offers a newer version',
    { stamp: NOW - 7200, installed: { tree: '2.1.0-1' }, candidates: { tree: '2.1.0-1' } },
    [
      'refresh the apt package index (updated 2 h ago, max 60 min) | ~ apt-get update (updated 2 h ago, max 60 min)',
      'install package tree | ~ package tree 2.1.0-1 -> the newest the refreshed index offers, if newer',
    ],
  ],
  [
    'an earlier task changes the index (check mode) -> unknown, saying why',
    {
      ...FRESH,
      installed: { tree: '2.1.0-1' },
      candidates: { tree: '2.1.0-1' },
      indexChange: 'aptRepository tools refreshes it',
    },
    'unknown: the package index is changed before this task (aptRepository tools refreshes it): the versions it will offer tree are not known yet',
  ],
];
for (const [what, host, want] of LATEST)
  test(`state latest: ${what}`, () => {
    assert.deepEqual(latestRows(plan({ packages: ['tree'], state: 'latest' }, host)), want);
  });

test('state latest: the upgrade is not a pin (no downgrade, no held package changed)', () => {
  const [install] = changes(
    plan(
      { packages: ['tree'], state: 'latest' },
      { ...FRESH, installed: { tree: '2.1.0-1' }, candidates: { tree: '2.1.0-2' } },
    ),
  );
  assert.match(script(install), /fb_apt install -y +--no-install-recommends .*-- tree=2\.1\.0-2;/);
  assert.doesNotMatch(script(install), /allow-downgrades|allow-change-held/);
});

test('state latest: a pinned version or hold: true is refused when the task is built', () => {
  assert.throws(
    () => aptInstall({ packages: ['tree=2.1.0-1'], state: 'latest' }),
    /a version \(NAME=VERSION\) pins the package, and latest follows the package index: give one or the other/,
  );
  assert.throws(
    () => aptInstall({ packages: ['tree'], state: 'latest', hold: true }),
    /hold: true keeps the packages at their version, and latest upgrades them/,
  );
});
