// ~/.ssh/config and ProxyJump against real lab hosts: the target's name resolves only on the jump
// host (an /etc/hosts line there), so a run that reaches it went through the jump host. Host keys
// are checked on both hops.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertHealthy, fleetbook, HOSTS, lab, onHost, taskEnds } from './helpers.ts';
import type { LabInfo } from '../../src/lab/index.ts';

const [JUMP, TARGET] = HOSTS.jump;
const HIDDEN = 'hidden-target.internal';
const dir = mkdtempSync(join(tmpdir(), 'fb-jump-'));
const env = {
  FLEETBOOK_STATE_DIR: join(dir, 'state'),
  FLEETBOOK_SECRETS_DIR: join(dir, 'secrets'),
};
let info: LabInfo;
let jumpAddress = '';
let targetAddress = '';

/** The lab's known_hosts line for an address, under another name if asked. */
function keyLine(address: string, as = address): string {
  const line = readFileSync(info.knownHostsPath, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${address} `));
  assert.ok(line !== undefined, `no known_hosts line for ${address}`);
  return `${as}${line.slice(address.length)}`;
}

/** An inventory of one host known only by a name the jump host resolves, and its ssh config. */
function inventory(knownHosts: readonly string[], extra = ''): string {
  const config = join(dir, 'ssh_config');
  writeFileSync(
    config,
    `Host target\n  HostName ${HIDDEN}\n  ProxyJump jumpbox\n` +
      `Host jumpbox\n  HostName ${jumpAddress}\n  User root\n  IdentityFile ${info.keyPath}\n`,
  );
  const known = join(dir, `known_hosts-${String(Math.random()).slice(2)}`);
  writeFileSync(known, `${knownHosts.join('\n')}\n`);
  const inv = join(dir, `inv-${String(Math.random()).slice(2)}.yaml`);
  writeFileSync(
    inv,
    `environment: development\ndefaults: { sshConfig: ${config}, key: ${info.keyPath}, knownHosts: ${known} }\n` +
      `hosts:\n  target: { ${extra} }\n`,
  );
  return inv;
}

const run = (inv: string, ...args: string[]) =>
  fleetbook(['run', 'test/e2e/playbooks/jump.ts', '-i', inv, ...args], env);

before(async () => {
  info = await lab('jump');
  const address = (name: string) => info.hosts.find((h) => h.name === name)?.address ?? '';
  jumpAddress = address(JUMP);
  targetAddress = address(TARGET);
  await onHost(JUMP, `echo '${targetAddress} ${HIDDEN}' >> /etc/hosts`);
});

test('--list-hosts shows the address from ~/.ssh/config and the jump host', async () => {
  const r = await run(inventory([]), '--list-hosts');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`target +root@${HIDDEN}:22 +via root@${jumpAddress}:22`));
});

test('without the jump the target cannot be reached at all: its name resolves only on the jump host', async () => {
  const r = await run(
    inventory([keyLine(jumpAddress), keyLine(targetAddress, HIDDEN)], 'proxyJump: none'),
    '--check',
  );
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, new RegExp(`cannot connect to root@${HIDDEN}:22: .*ENOTFOUND`));
});

test("the jump host's key is checked: not in known_hosts, the run refuses before reaching the target", async () => {
  const r = await run(inventory([keyLine(targetAddress, HIDDEN)]), '--check');
  assert.notEqual(r.code, 0);
  assert.match(
    r.stdout + r.stderr,
    new RegExp(
      `jump host root@${jumpAddress.replaceAll('.', '\\.')}:22: host key verification failed: ${jumpAddress.replaceAll('.', '\\.')} is not in`,
    ),
  );
});

test("the target's key is checked too, under the name the jump host connects to", async () => {
  // The jump host's key recorded for the target's name: the target presents another one.
  const r = await run(inventory([keyLine(jumpAddress), keyLine(jumpAddress, HIDDEN)]), '--check');
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, new RegExp(`the host key of ${HIDDEN} has CHANGED`));
  assert.doesNotMatch(r.stdout + r.stderr, /jump host .*verification failed/);
});

test('through the jump host with both keys known: check, run and a second run that changes nothing', async () => {
  const inv = inventory([keyLine(jumpAddress), keyLine(targetAddress, HIDDEN)]);
  const outcomes = async (...args: string[]) => {
    const r = await run(inv, '--json', ...args);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return taskEnds(r).map((e) => e.outcome);
  };
  assert.deepEqual(await outcomes('--check'), ['would-change']);
  assert.deepEqual(await outcomes(), ['changed']);
  assert.equal(await onHost(TARGET, 'cat /root/reached-through-jump'), 'reached\n');
  assert.equal(
    await onHost(JUMP, 'test -e /root/reached-through-jump && echo yes || echo no'),
    'no\n',
  );
  assert.deepEqual(await outcomes(), ['ok']);
  await assertHealthy([JUMP, TARGET]);
});
