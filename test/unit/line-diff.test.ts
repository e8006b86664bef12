import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffLines, splitLines, unifiedHunks, type LineDiff } from '../../src/core/line-diff.ts';

/** b rebuilt from a and the runs: a diff must say exactly how to get from one to the other. */
function apply(a: readonly string[], b: readonly string[], d: LineDiff): string[] {
  const out: string[] = [];
  let ai = 0;
  for (const r of d.runs) {
    if (r.kind === 'same') {
      assert.equal(r.at, ai, 'kept lines are taken in order');
      out.push(...a.slice(ai, ai + r.count));
      ai += r.count;
    } else if (r.kind === 'del') {
      assert.equal(r.at, ai);
      ai += r.count;
    } else out.push(...b.slice(r.at, r.at + r.count));
  }
  assert.equal(ai, a.length, 'every line of a is kept or removed');
  return out;
}

const u = (a: string, b: string) =>
  unifiedHunks(splitLines(a), splitLines(b), diffLines(splitLines(a), splitLines(b)));

const cases: Array<{ what: string; a: string; b: string; hunks: string }> = [
  { what: 'no change', a: 'x\ny\n', b: 'x\ny\n', hunks: '' },
  { what: 'a new file', a: '', b: 'one\ntwo\n', hunks: '@@ -0,0 +1,2 @@\n+one\n+two\n' },
  { what: 'a removed file', a: 'one\n', b: '', hunks: '@@ -1,1 +0,0 @@\n-one\n' },
  {
    what: 'one changed line among others keeps 3 lines of context',
    a: '1\n2\n3\n4\n5\n6\n7\n8\n9\n',
    b: '1\n2\n3\n4\nFIVE\n6\n7\n8\n9\n',
    hunks: '@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+FIVE\n 6\n 7\n 8\n',
  },
  {
    what: 'changes far apart are two hunks',
    a: 'a\n1\n2\n3\n4\n5\n6\n7\n8\nb\n',
    b: 'A\n1\n2\n3\n4\n5\n6\n7\n8\nB\n',
    hunks: '@@ -1,4 +1,4 @@\n-a\n+A\n 1\n 2\n 3\n@@ -7,4 +7,4 @@\n 6\n 7\n 8\n-b\n+B\n',
  },
  {
    what: 'a last line without a newline is marked',
    a: 'x\ny',
    b: 'x\nz',
    hunks:
      '@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+z\n\\ No newline at end of file\n',
  },
];

for (const c of cases) {
  test(`unified hunks: ${c.what}`, () => {
    assert.equal(u(c.a, c.b), c.hunks);
  });
}

test('for many random edits, the runs turn a into b, and the diff is as short as it can be', () => {
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let t = 0; t < 300; t++) {
    const a = Array.from({ length: rnd(30) }, () => `${rnd(6)}\n`);
    const b = a.flatMap((l) => (rnd(4) === 0 ? [] : rnd(5) === 0 ? [l, `${rnd(6)}\n`] : [l]));
    const d = diffLines(a, b);
    assert.deepEqual(apply(a, b, d), b);
    assert.equal(d.minimal, true);
    // Minimal: no shorter edit script exists than a.length + b.length - 2 * LCS.
    const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
    for (let i = a.length - 1; i >= 0; i--)
      for (let j = b.length - 1; j >= 0; j--)
        (lcs[i] as number[])[j] =
          a[i] === b[j]
            ? (lcs[i + 1]?.[j + 1] ?? 0) + 1
            : Math.max(lcs[i + 1]?.[j] ?? 0, lcs[i]?.[j + 1] ?? 0);
    const edits = d.runs.filter((r) => r.kind !== 'same').reduce((s, r) => s + r.count, 0);
    assert.equal(edits, a.length + b.length - 2 * (lcs[0]?.[0] ?? 0));
  }
});

test('past the edit budget the middle is one replacement: still exact, and said so', () => {
  const a = Array.from({ length: 20000 }, (_, i) => `line ${i} alpha\n`);
  const b = Array.from({ length: 20000 }, (_, i) => `line ${i} beta\n`);
  const d = diffLines(a, b);
  assert.equal(d.minimal, false);
  assert.deepEqual(apply(a, b, d), b);
});
