import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { raw, sh, type ShellValue } from '../../src/core/shell.ts';

/** What /bin/sh (dash) makes of the interpolated value: printf each word on its own line. */
function words(value: ShellValue): string[] {
  const out = execFileSync('/bin/sh', ['-c', sh`printf '%s\n' ${value}`.text], {
    encoding: 'utf8',
  });
  return out.replace(/\n$/, '').split('\n');
}

const cases: Array<{ what: string; value: ShellValue; words: string[] }> = [
  { what: 'a plain word', value: 'nginx', words: ['nginx'] },
  { what: 'spaces stay one word', value: 'a b  c', words: ['a b  c'] },
  { what: 'quotes', value: `it's "x"`, words: [`it's "x"`] },
  {
    what: 'a command substitution is text',
    value: '$(touch /tmp/pwned)',
    words: ['$(touch /tmp/pwned)'],
  },
  { what: 'backticks and semicolons', value: '`id`; rm -rf /', words: ['`id`; rm -rf /'] },
  { what: 'a glob is not expanded', value: '/etc/*', words: ['/etc/*'] },
  { what: 'the empty string is one (empty) word', value: '', words: [''] },
  { what: 'a newline inside a word', value: 'a\nb', words: ['a', 'b'] },
  { what: 'an array is several words', value: ['a b', 'c'], words: ['a b', 'c'] },
  { what: 'a number', value: 42, words: ['42'] },
  { what: 'a Script is code', value: sh`x y`, words: ['x', 'y'] },
  { what: 'raw() is code', value: raw('"$HOME"'), words: [process.env.HOME ?? ''] },
];

for (const c of cases) {
  test(`sh quotes by construction: ${c.what}`, () => {
    assert.deepEqual(words(c.value), c.words);
  });
}

test('sh refuses values it cannot quote', () => {
  assert.throws(
    () => sh`x ${{} as unknown as string}`,
    /interpolate strings, numbers, arrays or Scripts/,
  );
  assert.throws(() => sh`x ${Number.NaN}`, /not a finite number/);
});

test('a Script serialises as its text (journals keep scripts as text)', () => {
  assert.equal(JSON.stringify({ s: sh`rm -- ${'/a b'}` }), '{"s":"rm -- \'/a b\'"}');
});
