import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fact,
  type FileFact,
  type CommandFact,
  type UserFact,
  type PackagesFact,
  type GroupFact,
  type ServiceFact,
} from '../../src/core/facts.ts';
import { buildProbeScript, lineHashes, sha256 } from '../../src/core/probe-script.ts';
import type { PackageContentsFact } from '../../src/core/package-contents.ts';
import { raw } from '../../src/core/shell.ts';
import { ensureDir } from '../../tasks/ensureDir.ts';

// The probe script runs under the controller's own /bin/sh (dash on Debian, as on the hosts).
function probe(queries: Parameters<typeof buildProbeScript>[0], asRoot = true) {
  const p = buildProbeScript(queries, asRoot);
  const out = execFileSync('/bin/sh', ['-c', p.script.text], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
  });
  return p.parse(out);
}

test('file facts: absent, regular file with content, line hashes, directory, symlink', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-probe-'));
  const f = join(dir, "it's a file");
  writeFileSync(f, 'one\ntwo\nthree');
  chmodSync(f, 0o640);
  mkdirSync(join(dir, 'sub'));
  symlinkSync(f, join(dir, 'link'));
  const [absent, content, hashes, sub, link] = probe([
    fact.file(join(dir, 'missing')),
    fact.file(f, 'content'),
    fact.file(f, 'lineHashes'),
    fact.file(join(dir, 'sub')),
    fact.file(join(dir, 'link'), 'content'),
  ]) as FileFact[];
  assert.equal(absent?.exists, false);
  assert.equal(content?.type, 'file');
  assert.equal(content?.mode, '0640');
  assert.equal(content?.sha256, sha256('one\ntwo\nthree'));
  assert.equal(content?.content?.toString(), 'one\ntwo\nthree');
  assert.deepEqual(hashes?.lineHashes, lineHashes('one\ntwo\nthree'));
  assert.equal(hashes?.lineHashes?.length, 3);
  assert.equal(hashes?.content, undefined);
  assert.equal(sub?.type, 'directory');
  assert.equal(link?.type, 'symlink');
  assert.equal(link?.content, undefined, 'a symlink is not read through');
  assert.equal(link?.linkTarget, f, 'what the symlink points to');
  assert.equal(content?.linkTarget, undefined, 'only symlinks have a target');
});

test('content that looks like a block marker cannot forge a block', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-probe-'));
  const f = join(dir, 'evil');
  writeFileSync(f, '@@fb000000000000 1\nABSENT\n');
  const [a, b] = probe([fact.file(f, 'content'), fact.file(join(dir, 'nope'))]) as FileFact[];
  assert.equal(a?.exists, true);
  assert.equal(b?.exists, false);
});

test('command facts keep exit code and output; a script that exits does not end the probe', () => {
  const [ok, bad, after] = probe([
    fact.command(raw('echo hi; echo err >&2')),
    fact.command(raw('exit 3')),
    fact.command(raw('printf done')),
  ]) as CommandFact[];
  // Like any shell command substitution, trailing newlines are dropped.
  assert.deepEqual(ok, { code: 0, stdout: 'hi\nerr' });
  assert.equal(bad?.code, 3);
  assert.equal(after?.stdout, 'done');
});

test('user and packages facts', () => {
  const [root, nobody] = probe([fact.user('root'), fact.user('no-such-user-xyz')]) as UserFact[];
  assert.equal(root?.exists, true);
  assert.equal(root?.uid, 0);
  assert.equal(nobody?.exists, false);
  const [pkgs] = probe([fact.packages(['coreutils', 'no-such-package-xyz'])]) as PackagesFact[];
  assert.equal(pkgs?.coreutils?.installed, true);
  assert.equal(pkgs?.['no-such-package-xyz']?.installed, false);
});

test('a cut-short probe output is an error, not silently missing facts', () => {
  const p = buildProbeScript([fact.file('/etc/hostname')]);
  assert.throws(() => p.parse(''), /cut short/);
});

test('a file whose hash is the expected one sends no bytes; any other hash sends them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-probe-'));
  const f = join(dir, 'same');
  const g = join(dir, 'other');
  writeFileSync(f, 'a\nb\n');
  writeFileSync(g, 'c\n');
  const [same, other, sameHashes, otherHashes] = probe([
    fact.file(f, 'content', sha256('a\nb\n')),
    fact.file(g, 'content', sha256('a\nb\n')),
    fact.file(f, 'lineHashes', sha256('a\nb\n')),
    fact.file(g, 'lineHashes', sha256('a\nb\n')),
  ]) as FileFact[];
  assert.equal(same?.sha256, sha256('a\nb\n'));
  assert.equal(same?.content, undefined);
  assert.equal(sameHashes?.lineHashes, undefined);
  assert.equal(other?.sha256, sha256('c\n'));
  assert.equal(other?.content?.toString(), 'c\n');
  assert.deepEqual(otherHashes?.lineHashes, lineHashes('c\n'));
});

test('one stat and one sha256sum serve every path, odd names included', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-probe-'));
  const names = ['plain', 'with space', 'pipe|in it', 'back\\slash', "quote'd", '-dash'];
  for (const [i, n] of names.entries()) writeFileSync(join(dir, n), `file ${i}\n`);
  const p = buildProbeScript(names.map((n) => fact.file(join(dir, n), 'content')));
  assert.equal(p.script.text.match(/\bstat -c/g)?.length, 1);
  assert.equal(p.script.text.match(/sha256sum --/g)?.length, 1);
  const out = execFileSync('/bin/sh', ['-c', p.script.text], { encoding: 'utf8' });
  const facts = p.parse(out) as FileFact[];
  for (const [i, f] of facts.entries()) {
    assert.equal(f.exists, true, names[i]);
    assert.equal(f.sha256, sha256(`file ${i}\n`), names[i]);
    assert.equal(f.content?.toString(), `file ${i}\n`, names[i]);
  }
});

test('a path with a newline is refused, not misread', () => {
  assert.throws(() => buildProbeScript([fact.file('/tmp/a\nb')]), /newline/);
});

test('users, groups and packages of several queries are read in one call each', () => {
  const queries = [
    fact.user('root'),
    fact.user('no-such-user-xyz'),
    fact.group('root'),
    fact.group('no-such-group-xyz'),
    fact.packages(['coreutils']),
    fact.packages(['dash', 'no-such-package-xyz']),
  ];
  const p = buildProbeScript(queries);
  assert.equal(p.script.text.match(/getent passwd/g)?.length, 1);
  assert.equal(p.script.text.match(/dpkg-query/g)?.length, 1);
  const [root, nouser, rootGroup, nogroup, core, dash] = p.parse(
    execFileSync('/bin/sh', ['-c', p.script.text], { encoding: 'utf8' }),
  ) as [UserFact, UserFact, GroupFact, GroupFact, PackagesFact, PackagesFact];
  assert.equal(root.uid, 0);
  assert.equal(nouser.exists, false);
  assert.equal(rootGroup.gid, 0);
  assert.equal(nogroup.exists, false);
  assert.deepEqual(Object.keys(core), ['coreutils']);
  assert.equal(core.coreutils?.installed, true);
  assert.equal(dash.dash?.installed, true);
  assert.equal(dash['no-such-package-xyz']?.installed, false);
});

// dpkg-query and apt-get stand-ins: the statuses are the case's data, and apt-get's error names
// the packages it was asked about.
const DPKG_TABLE = [
  ['coreutils', 'ii ', '9.1'],
  ['held-pkg', 'hi ', '1.0'],
  ['removed-pkg', 'rc ', '2.0'],
  ['python3-django', 'ii ', '4.2'],
];
function fakePackageTools(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fb-fake-dpkg-'));
  const table = DPKG_TABLE.map((r) => r.join('\t')).join('\n');
  writeFileSync(
    join(dir, 'dpkg-query'),
    `#!/bin/sh\nwhile IFS='\t' read -r n s v; do for a in "$@"; do [ "$a" = "$n" ] && printf '%s\\t%s\\t%s\\n' "$n" "$s" "$v"; done; done <<'EOF'\n${table}\nEOF\nexit 0\n`,
  );
  writeFileSync(
    join(dir, 'apt-get'),
    '#!/bin/sh\necho "E: asked about: $*" | sed "s/.* -- //"\nexit 100\n',
  );
  chmodSync(join(dir, 'dpkg-query'), 0o755);
  chmodSync(join(dir, 'apt-get'), 0o755);
  return dir;
}

test("packageContents asks apt only about the names not installed, from the probe's one dpkg-query", (t) => {
  const bin = fakePackageTools();
  const cases: [string[], string | null][] = [
    [['coreutils'], null],
    [['held-pkg'], null],
    [['coreutils', 'removed-pkg', 'django'], 'django removed-pkg'],
    [['coreutils=9.0', 'held-pkg'], 'coreutils=9.0'],
  ];
  t.after(() => {
    rmSync(bin, { recursive: true, force: true });
  });
  for (const [names, asked] of cases) {
    const p = buildProbeScript([fact.packages(['coreutils']), fact.packageContents(names)]);
    assert.equal(p.script.text.match(/dpkg-query/g)?.length, 1, 'one dpkg-query');
    const out = execFileSync('/bin/sh', ['-c', p.script.text], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
    });
    const [, contents] = p.parse(out) as [PackagesFact, PackageContentsFact];
    assert.deepEqual(
      contents,
      asked === null ? { packages: [] } : { error: `apt-get -s install: ${asked}`, packages: [] },
      names.join(' '),
    );
  }
});

test('service facts come from one systemctl show, matched to units in order', () => {
  const p = buildProbeScript([
    fact.service('cron'),
    fact.service('app.service'),
    fact.service('gone'),
  ]);
  assert.equal(p.script.text.match(/systemctl show/g)?.length, 1);
  const marker = /@@fb[0-9a-f]+/.exec(p.script.text)?.[0] ?? '';
  const out = [
    `${marker} svc`,
    'systemd',
    'Id=cron.service',
    'LoadState=loaded',
    'ActiveState=active',
    'UnitFileState=enabled',
    'NeedDaemonReload=no',
    '',
    'Id=app.service',
    'LoadState=loaded',
    'ActiveState=inactive',
    'UnitFileState=disabled',
    'NeedDaemonReload=yes',
    '',
    'Id=gone.service',
    'LoadState=not-found',
    'ActiveState=inactive',
    'UnitFileState=',
    'NeedDaemonReload=no',
    `${marker} end`,
  ].join('\n');
  const [cron, app, gone] = p.parse(out) as ServiceFact[];
  assert.deepEqual(
    [cron?.active, cron?.enabled, cron?.exists, cron?.needsDaemonReload],
    ['active', 'enabled', true, false],
  );
  assert.deepEqual(
    [app?.name, app?.active, app?.enabled, app?.needsDaemonReload],
    ['app.service', 'inactive', 'disabled', true],
  );
  assert.equal(gone?.exists, false);
});

test('a path param with a newline is refused before any host is touched', () => {
  assert.throws(
    () => ensureDir({ path: '/srv/a\nb' }),
    /path.*absolute path \(without newlines\)/s,
  );
});

// The tests run as root (the lab needs it); the probe runs as nobody, as an unprivileged login would.
test('not root: a file it cannot read, or in a directory it cannot enter, is unreadable, not absent', () => {
  assert.equal(process.getuid?.(), 0, 'this test runs the probe as nobody, which needs root');
  const dir = mkdtempSync(join(tmpdir(), 'fb-probe-'));
  chmodSync(dir, 0o755);
  const secret = join(dir, 'secret');
  writeFileSync(secret, 'x\n');
  chmodSync(secret, 0o600);
  mkdirSync(join(dir, 'closed'));
  writeFileSync(join(dir, 'closed', 'inside'), 'y\n');
  chmodSync(join(dir, 'closed'), 0o700);
  const open = join(dir, 'open');
  writeFileSync(open, 'z\n');
  chmodSync(open, 0o644);
  const queries = [
    fact.file(secret, 'content'),
    fact.file(join(dir, 'closed', 'inside'), 'content'),
    fact.file(open, 'content'),
    fact.file(join(dir, 'missing')),
  ];
  const p = buildProbeScript(queries, false);
  const out = execFileSync('runuser', ['-u', 'nobody', '--', '/bin/sh', '-c', p.script.text], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
  });
  const [unreadable, hidden, readable, missing] = p.parse(out) as FileFact[];
  assert.match(unreadable?.unreadable ?? '', /cannot read/);
  assert.equal(unreadable?.exists, true);
  assert.match(hidden?.unreadable ?? '', /directory/);
  assert.equal(readable?.unreadable, undefined);
  assert.equal(readable?.content?.toString(), 'z\n');
  assert.equal(missing?.unreadable, undefined);
  assert.equal(missing?.exists, false);
});
