// defineFact: a new kind of fact is read in the same probe as the built-in ones (one script per
// kind, every query of the kind batched into it), parsed by its own parser, and in check mode
// read as an earlier change's factEffect leaves it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { defineFact, fact, factEffect, sh } from '../../src/index.ts';
import { FactCache } from '../../src/runner/fact-cache.ts';
import type { Remote } from '../../src/runner/remote.ts';
import { liveHostname } from '../../tasks/hostname.ts';
import { passwordState } from '../../tasks/user-password.ts';

/** A host that is this machine, counting its round trips. */
function localHost(): { remote: Remote; trips: () => number } {
  let trips = 0;
  const remote = {
    asRoot: true,
    exec: (script: { text: string }) => {
      trips++;
      const r = spawnSync('/bin/sh', ['-s'], { input: script.text, encoding: 'utf8' });
      return Promise.resolve({ code: r.status ?? 255, stdout: r.stdout, stderr: r.stderr });
    },
  } as unknown as Remote;
  return { remote, trips: () => trips };
}

let scripts = 0;
/** A kernel parameter from /proc/sys, as sysctl names it. */
const kernelParam = defineFact<string, string | null>({
  kind: 'kernelParam',
  script: (names) => {
    scripts++;
    return sh`for n in ${names}; do p=/proc/sys/$(printf '%s' "$n" | tr . /); if [ -r "$p" ]; then printf '%s\\n' "$(tr -s '\\t ' ' ' < "$p")"; else echo '@@none'; fi; done`;
  },
  parse: (stdout, names) => {
    const lines = stdout.split('\n');
    return names.map((_, i) => (lines[i] === '@@none' ? null : (lines[i] ?? null)));
  },
  key: (name) => name,
});

test('custom facts: one script per kind, every query batched, in the one round trip', async () => {
  scripts = 0;
  const { remote, trips } = localHost();
  const got = await new FactCache(remote, false, false).get({
    ostype: kernelParam('kernel.ostype'),
    again: kernelParam('kernel.ostype'),
    missing: kernelParam('kernel.no_such_param'),
    dir: fact.file('/proc'),
  });
  assert.equal(got.ostype, 'Linux');
  assert.equal(got.again, 'Linux');
  assert.equal(got.missing, null);
  assert.equal((got.dir as { type: string }).type, 'directory');
  assert.equal(scripts, 1, 'the kind has one script for its queries');
  assert.equal(trips(), 1, 'custom and built-in facts share the round trip');
});

test('custom facts in check mode: a change that declares its effect is what later tasks read', async () => {
  const { remote } = localHost();
  const c = new FactCache(remote, true, false);
  const live = (await c.get({ h: liveHostname(null) })).h;
  assert.equal(live, spawnSync('hostname', { encoding: 'utf8' }).stdout.trim());
  c.simulate([factEffect(liveHostname(null), 'renamed')]);
  assert.equal((await c.get({ h: liveHostname(null) })).h, 'renamed');
  // Undeclared, after a would-be install: it may not be what the install leaves.
  c.simulate([
    {
      kind: 'installs',
      contents: {
        packages: [{ name: 'x', files: [], shipped: [], scripted: [], units: [], accounts: false }],
      },
    },
  ]);
  assert.match(c.doubt({ p: kernelParam('kernel.ostype') }) ?? '', /after installing x/);
  assert.equal(c.doubt({ h: liveHostname(null) }), undefined);
});

test('custom facts in check mode: one about accounts is doubted only after an install that creates accounts', () => {
  const { remote } = localHost();
  const install = (accounts: boolean) => ({
    kind: 'installs' as const,
    contents: {
      packages: [{ name: 'x', files: [], shipped: [], scripted: [], units: [], accounts }],
    },
  });
  const quiet = new FactCache(remote, true, false);
  quiet.simulate([install(false)]);
  assert.equal(quiet.doubt({ p: passwordState('nobody') }), undefined);
  assert.match(quiet.doubt({ p: kernelParam('kernel.ostype') }) ?? '', /after installing x/);
  const adds = new FactCache(remote, true, false);
  adds.simulate([install(true)]);
  assert.match(
    adds.doubt({ p: passwordState('nobody') }) ?? '',
    /^passwordState:nobody: package x, which an earlier task would install, may create it$/,
  );
});

test('defineFact refuses a kind that is not a name', () => {
  assert.throws(
    () => defineFact({ kind: 'no spaces', script: () => sh`true`, parse: () => [] }),
    /kind "no spaces" must be a name/,
  );
});
