// `fleetbook exec`: an ad-hoc command on lab hosts, output and exit code per host, the user and
// become the inventory (or -u / -b) say, and an unreachable host reported as such.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertHealthy, fleetbook, HOSTS, lab } from './helpers.ts';
import type { LabInfo } from '../../src/lab/index.ts';

const [HOST] = HOSTS.exec;
let info: LabInfo;
let inventory = '';

before(async () => {
  info = await lab('exec');
  const address = info.hosts.find((h) => h.name === HOST)?.address ?? '';
  const dir = mkdtempSync(join(tmpdir(), 'fb-exec-'));
  inventory = join(dir, 'inv.yaml');
  // gone is a TEST-NET address nobody answers on.
  writeFileSync(
    inventory,
    `environment: development\ndefaults: { sshConfig: none, key: ${info.keyPath}, knownHosts: ${info.knownHostsPath} }\n` +
      `hosts:\n  ${HOST}: { address: ${address} }\n  gone: { address: 192.0.2.1 }\n`,
  );
});

const exec = (...args: string[]) =>
  fleetbook(['exec', '-i', inventory, '--connect-timeout', '2', ...args]);

test("each host's output under its name with its exit code; the worst outcome is the exit status", async () => {
  const r = await exec('hostname; echo oops >&2; exit 3');
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`^${HOST} \\| FAILED \\| rc=3 >>\\n${HOST}\\noops\\n`, 'm'));
  assert.match(r.stdout, /^gone \| UNREACHABLE: cannot connect to root@192\.0\.2\.1:22: /m);
  const ok = await exec('--limit', HOST, 'echo fine');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, `${HOST} | SUCCESS | rc=0 >>\nfine\n`);
  const unreachable = await exec('--limit', 'gone', 'true');
  assert.equal(unreachable.code, 4);
});

test('-u connects as that user; -b acts as root through sudo -n; --json is one object per host', async () => {
  // The root run above left root's 0644 lock file: a plain user must still get its session.
  const asDeploy = await exec('--limit', HOST, '-u', 'deploy', '--json', 'id -un');
  assert.equal(asDeploy.code, 0, asDeploy.stdout + asDeploy.stderr);
  assert.deepEqual(JSON.parse(asDeploy.stdout), {
    host: HOST,
    code: 0,
    stdout: 'deploy\n',
    stderr: '',
  });
  const become = await exec('--limit', HOST, '-u', 'deploy', '-b', 'id -un');
  assert.equal(become.stdout, `${HOST} | SUCCESS | rc=0 >>\nroot\n`);
  await assertHealthy([HOST]);
});

test('an empty command and an unknown --limit are errors before connecting', async () => {
  const empty = await exec(' ');
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /exec: the command is empty/);
  const typo = await exec('--limit', 'lab4x', 'true');
  assert.equal(typo.code, 1);
  assert.match(typo.stderr, /--limit "lab4x" matches no host or group/);
});
