import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileDiff, maskLine, sensitiveFileDiff, MASK } from '../../src/core/diff.ts';
import { lineHashes } from '../../src/core/probe-script.ts';

test('unified file diff names host and path', () => {
  const d = fileDiff('web1', '/etc/app.conf', Buffer.from('a\nb\n'), Buffer.from('a\nc\n'));
  assert.equal(d.kind, 'file');
  if (d.kind !== 'file') return;
  assert.match(
    d.unified,
    /^--- web1:\/etc\/app.conf\t\(before\)\n\+\+\+ web1:\/etc\/app.conf\t\(after\)\n/,
  );
  assert.match(d.unified, /\n-b\n\+c\n/);
});

test('a new file diffs against /dev/null', () => {
  const d = fileDiff('web1', '/etc/new', null, Buffer.from('x\n'));
  assert.ok(d.kind === 'file' && d.unified.startsWith('--- /dev/null'));
});

test('maskLine keeps keys, hides values', () => {
  const cases: [string, string][] = [
    [`SECRET_KEY = 'abc'`, `SECRET_KEY = ${MASK}`],
    ['password: hunter2', `password: ${MASK}`],
    ['user|smarthost:pw', MASK],
    ['', ''],
  ];
  for (const [line, want] of cases) assert.equal(maskLine(line), want);
});

test('sensitive diff shows which lines change and never a value', () => {
  const before = "DEBUG = False\nSECRET_KEY = 'old-canary-1234'\nADMINS = []\n";
  const after = "DEBUG = False\nSECRET_KEY = 'new-canary-5678'\nADMINS = []\n";
  const lines = after.match(/[^\n]*\n/g) ?? [];
  const d = sensitiveFileDiff('h', '/etc/s.py', lineHashes(before), lines, lineHashes(after));
  assert.ok(d.kind === 'file');
  if (d.kind !== 'file') return;
  assert.doesNotMatch(d.unified, /canary/);
  assert.match(d.unified, /^-\(line 2, value hidden\)$/m);
  assert.match(d.unified, new RegExp(`^\\+SECRET_KEY = ${MASK.replace(/\*/g, '\\*')}$`, 'm'));
  assert.match(d.unified, /1 unchanged line\n/);
});
