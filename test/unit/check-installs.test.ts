import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fact, raw, type FileFact } from '../../src/index.ts';
import { parsePackageContents } from '../../src/core/package-contents.ts';
import { FactCache } from '../../src/runner/fact-cache.ts';
import type { Remote } from '../../src/runner/remote.ts';

// Check mode after a task that would install dma (contents as a fresh lab host gave them): what
// later tasks are told, and what they are not. The probes run on this machine, which has no dma.
const dma = parsePackageContents(
  readFileSync(new URL('../fixtures/package-contents/dma.txt', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l !== ''),
);
const here = {
  asRoot: true,
  exec: (script: { text: string }) => {
    const r = spawnSync('/bin/sh', ['-s'], { input: script.text, encoding: 'utf8' });
    return Promise.resolve({ code: r.status ?? 255, stdout: r.stdout, stderr: r.stderr });
  },
} as unknown as Remote;

function cache(): FactCache {
  const c = new FactCache(here, true, true);
  c.simulate([{ kind: 'installs', contents: dma }]);
  return c;
}

const cases: readonly [string, string, RegExp | undefined][] = [
  // a directory the package ships: predicted exactly
  ['/etc/dma', 'file', undefined],
  // a conffile: predicted with its bytes
  ['/etc/dma/auth.conf', 'file', undefined],
  // postinst writes these from debconf answers: not predicted, and said why
  [
    '/etc/mailname',
    'file',
    /^\/etc\/mailname: package dma, which an earlier task would install, may create or change it/,
  ],
  ['/etc/dma/dma.conf', 'file', /package dma/],
  // a file it ships whose bytes are not read
  ['/usr/sbin/dma', 'file', /package dma/],
  // nothing to do with it
  ['/etc/aliases-fb-test', 'file', undefined],
];

for (const [path, kind, doubt] of cases)
  test(`after a would-be install of dma, ${kind} ${path}: ${doubt === undefined ? 'known' : 'unknown'}`, () => {
    const why = cache().doubt({ f: fact.file(path) });
    if (doubt === undefined) assert.equal(why, undefined);
    else assert.match(why ?? '', doubt);
  });

test('the predicted directory and conffile are what later tasks read', async () => {
  const c = cache();
  const got = await c.get({
    dir: fact.file('/etc/dma'),
    auth: fact.file('/etc/dma/auth.conf', 'content'),
  });
  const dir = got.dir as FileFact;
  const auth = got.auth as FileFact;
  assert.deepEqual(
    [dir.exists, dir.type, dir.mode, dir.owner],
    [true, 'directory', '0755', 'root'],
  );
  assert.deepEqual([auth.exists, auth.mode, auth.group], [true, '0640', 'mail']);
  assert.match(auth.content?.toString() ?? '', /^# \$DragonFly/);
});

test('a later task that writes the path settles it; shell checks and units stay unknown', () => {
  const c = cache();
  c.simulate([
    {
      kind: 'file',
      fact: {
        path: '/etc/mailname',
        exists: true,
        type: 'file',
        mode: '0644',
        owner: 'root',
        group: 'root',
        size: 4,
        sha256: null,
        mtime: null,
      },
    },
  ]);
  assert.equal(c.doubt({ f: fact.file('/etc/mailname') }), undefined);
  assert.match(
    c.doubt({ x: fact.command(raw('true')) }) ?? '',
    /cannot run this check on the host as it would be after installing dma/,
  );
});

test('an install whose contents could not be read makes every later read unknown, naming why', () => {
  const c = new FactCache(here, true, true);
  c.simulate([{ kind: 'installs', contents: { error: 'apt-get download: E: 404', packages: [] } }]);
  assert.match(
    c.doubt({ f: fact.file('/srv/anything') }) ?? '',
    /cannot tell what the install an earlier task would make creates \(apt-get download: E: 404\)/,
  );
  assert.equal(new FactCache(here, true, true).doubt({ f: fact.file('/srv/anything') }), undefined);
});
