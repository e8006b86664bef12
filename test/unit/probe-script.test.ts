import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fact,
  type FileFact,
  type CommandFact,
  type UserFact,
  type PackagesFact,
} from '../../src/core/facts.ts';
import { buildProbeScript, lineHashes, sha256 } from '../../src/core/probe-script.ts';

// The probe script runs under the controller's own /bin/sh (dash on Debian, as on the hosts).
function probe(queries: Parameters<typeof buildProbeScript>[0]) {
  const p = buildProbeScript(queries);
  const out = execFileSync('/bin/sh', ['-c', p.script], {
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
    fact.command('echo hi; echo err >&2'),
    fact.command('exit 3'),
    fact.command('printf done'),
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
