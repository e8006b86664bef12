import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { modeOf, parseListing, parsePackageContents } from '../../src/core/package-contents.ts';

// What the host side printed for `dma` on a fresh lab host (Debian 12), captured as it came.
const dma = readFileSync(new URL('../fixtures/package-contents/dma.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l !== '');

test('dma: its directories and conffiles are predicted, its other files and scripted paths are not', () => {
  const fact = parsePackageContents(dma);
  assert.equal(fact.error, undefined);
  assert.deepEqual(
    fact.packages.map((p) => p.name),
    ['dma'],
  );
  const [p] = fact.packages;
  assert.ok(p !== undefined);
  const dir = p.files.find((f) => f.path === '/etc/dma');
  assert.deepEqual(
    [dir?.type, dir?.mode, dir?.owner, dir?.group],
    ['directory', '0755', 'root', 'root'],
  );
  const auth = p.files.find((f) => f.path === '/etc/dma/auth.conf');
  assert.deepEqual(
    [auth?.type, auth?.mode, auth?.owner, auth?.group, auth?.size],
    ['file', '0640', 'root', 'mail', auth?.content?.length],
  );
  assert.match(auth?.content?.toString() ?? '', /^# \$DragonFly/);
  assert.match(auth?.sha256 ?? '', /^[0-9a-f]{64}$/);
  // not a conffile: it appears, but its bytes are not predicted
  assert.ok(p.shipped.includes('/usr/sbin/dma'));
  assert.ok(!p.files.some((f) => f.path === '/usr/sbin/dma'));
  // postinst writes these from debconf answers
  for (const path of ['/etc/mailname', '/etc/dma/dma.conf'])
    assert.ok(p.scripted.includes(path), path);
  assert.deepEqual([p.units, p.accounts], [[], false]);
});

test('nothing to install, and an install apt cannot resolve', () => {
  assert.deepEqual(parsePackageContents(['none']), { packages: [] });
  assert.deepEqual(parsePackageContents([]), { packages: [] });
  assert.deepEqual(
    parsePackageContents(['error apt-get -s install: E: Unable to locate package nginx-x']),
    { error: 'apt-get -s install: E: Unable to locate package nginx-x', packages: [] },
  );
});

test('units and accounts', () => {
  const fact = parsePackageContents([
    'pkg postfix',
    'c -rw-r--r-- root/root      1234 2024-01-01 00:00 ./lib/systemd/system/postfix.service',
    'c -rw-r--r-- root/root      1234 2024-01-01 00:00 ./usr/lib/systemd/system/postfix@.service',
    's /etc/postfix/main.cf',
    'a',
  ]);
  assert.deepEqual(fact.packages[0]?.units, ['postfix.service', 'postfix@.service']);
  assert.equal(fact.packages[0]?.accounts, true);
  assert.deepEqual(fact.packages[0]?.scripted, ['/etc/postfix/main.cf']);
});

for (const [perms, mode] of [
  ['drwxr-xr-x', '0755'],
  ['-rw-r-----', '0640'],
  ['-rwsr-xr--', '4754'],
  ['-rwxr-sr-x', '2755'],
  ['drwxrwxrwt', '1777'],
  ['-rwSr--r--', '4644'],
] as const)
  test(`mode of ${perms} is ${mode}`, () => {
    assert.equal(modeOf(perms), mode);
  });

for (const [line, expected] of [
  [
    'drwxr-xr-x root/root         0 2022-05-14 00:38 ./etc/dma/',
    { path: '/etc/dma', type: 'directory', mode: '0755', owner: 'root', group: 'root', size: 0 },
  ],
  [
    'lrwxrwxrwx root/root         0 2022-05-14 00:38 ./usr/sbin/sendmail -> dma',
    {
      path: '/usr/sbin/sendmail',
      type: 'symlink',
      mode: '0777',
      owner: 'root',
      group: 'root',
      size: 0,
    },
  ],
  [
    'hrwxr-xr-x root/root         0 2022-05-14 00:38 ./usr/bin/a link to ./usr/bin/b',
    { path: '/usr/bin/a', type: 'file', mode: '0755', owner: 'root', group: 'root', size: 0 },
  ],
  [
    '-rw-r--r-- root/root        42 2022-05-14 00:38 ./etc/with space.conf',
    {
      path: '/etc/with space.conf',
      type: 'file',
      mode: '0644',
      owner: 'root',
      group: 'root',
      size: 42,
    },
  ],
  [
    'drwxr-xr-x root/root         0 2022-05-14 00:38 ./',
    { path: '/', type: 'directory', mode: '0755', owner: 'root', group: 'root', size: 0 },
  ],
  ['garbage', null],
] as const)
  test(`listing: ${line}`, () => {
    assert.deepEqual(parseListing(line), expected);
  });
