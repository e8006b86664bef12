import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ipv6FromHex, parseHostFacts, parseOsRelease } from '../../src/core/host-facts.ts';

const DIR = new URL('../fixtures/facts/', import.meta.url).pathname;
const cases = readdirSync(DIR).filter((f) => f.endsWith('.txt'));

test('there are captured fact outputs to parse', () => {
  assert.ok(cases.length >= 2, cases.join(', '));
});

for (const file of cases) {
  test(`host facts: ${file}`, () => {
    const expected: unknown = JSON.parse(
      readFileSync(join(DIR, file.replace(/\.txt$/, '.json')), 'utf8'),
    );
    assert.deepEqual(parseHostFacts(readFileSync(join(DIR, file), 'utf8')), expected);
  });
}

const osRelease: readonly [string, Record<string, string>][] = [
  ['ID=debian\nVERSION_ID="12"', { ID: 'debian', VERSION_ID: '12' }],
  ["NAME='Alpine Linux'", { NAME: 'Alpine Linux' }],
  ['PRETTY_NAME="A \\"quoted\\" \\$name"', { PRETTY_NAME: 'A "quoted" $name' }],
  ['# a comment\n\nBAD LINE\nID=ubuntu', { ID: 'ubuntu' }],
];
for (const [text, want] of osRelease)
  test(`os-release: ${JSON.stringify(text)}`, () => {
    assert.deepEqual(parseOsRelease(text), want);
  });

const ipv6: readonly [string, string][] = [
  ['fd000000000000000000000000000002', 'fd00::2'],
  ['00000000000000000000000000000001', '::1'],
  ['fe8000000000000000fc00fffe000001', 'fe80::fc:ff:fe00:1'],
  ['20010db8000000010000000000000000', '2001:db8:0:1::'],
  ['20010db8000100020003000400050006', '2001:db8:1:2:3:4:5:6'],
];
for (const [hex, want] of ipv6)
  test(`ipv6 ${hex} -> ${want}`, () => {
    assert.equal(ipv6FromHex(hex), want);
  });
