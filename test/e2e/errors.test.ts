import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { LabInfo } from '../../src/lab/index.ts';
import { assertHealthy, fleetbook, HOSTS, lab, onHost, taskEnds } from './helpers.ts';

const [HOST] = HOSTS.errors;
let info: LabInfo;

before(async () => {
  info = await lab('errors');
});

// The host must be healthy after this file changed it, not merely "the task said ok".
after(() => assertHealthy([HOST]));

function run(fbCase: string, inventory = info.inventoryPath) {
  return fleetbook(['run', 'test/e2e/playbooks/bad-input.js', '-i', inventory, '--limit', HOST], {
    FB_CASE: fbCase,
    FLEETBOOK_TEMPLATES: 'test/fixtures/templates',
  });
}

/** A copy of the lab inventory with some fields changed. */
function inventoryWith(
  edit: (
    inv: Record<string, unknown> & {
      defaults: Record<string, unknown>;
      hosts: Record<string, Record<string, unknown>>;
    },
  ) => void,
): string {
  const inv = parse(readFileSync(info.inventoryPath, 'utf8')) as Parameters<typeof edit>[0];
  edit(inv);
  const file = join(mkdtempSync(join(tmpdir(), 'fb-inv-')), 'inventory.yaml');
  writeFileSync(file, stringify(inv));
  return file;
}

const badParams: [string, RegExp][] = [
  [
    'unknownParam',
    /^fleetbook: error: test\/e2e\/playbooks\/bad-input\.js: host lab2: task ensureDir: mdoe: unknown field \(did you mean "mode"\?\); expected one of: path, mode, owner, group$/m,
  ],
  [
    'wrongType',
    /^fleetbook: error: test\/e2e\/playbooks\/bad-input\.js: host lab2: task ensureDir: mode: expected value that must be string, got 755$/m,
  ],
  ['undefinedVar', /test\/fixtures\/templates\/undefined-var\.ejs line \d+: "\w+" is not defined/],
  [
    'dottedCron',
    /cronDaily "cleanup\.py": name must contain only letters, digits, underscore and hyphen \(run-parts silently skips other names, so this job would never run\)/,
  ],
];

for (const [fbCase, message] of badParams) {
  test(`bad input stops the run before any host is touched: ${fbCase}`, async () => {
    const r = await run(fbCase);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '', 'nothing ran');
    assert.equal(
      (await onHost(HOST, 'test -e /etc/fb-canary && echo present || echo absent')).trim(),
      'absent',
    );
  });
}

test('missing inventory file', async () => {
  const r = await run('none', 'inventories/nope.yaml');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'fleetbook: error: inventories/nope.yaml: inventory file not found\n');
});

test('unreachable host: reported per host, exit code 4, others unaffected', async () => {
  const inv = inventoryWith((i) => {
    i.hosts.lab2 = { address: '127.0.1.250' };
  });
  const r = await fleetbook(
    ['run', 'test/e2e/playbooks/bad-input.js', '-i', inv, '--limit', HOST, '--check', '--json'],
    { FB_CASE: 'none' },
  );
  assert.equal(r.code, 4, r.stdout + r.stderr);
  const [end] = taskEnds(r, HOST);
  assert.equal(end?.outcome, 'unreachable');
  assert.match(
    end?.message ?? '',
    /cannot connect to root@127\.0\.1\.250:22: .*(ECONNREFUSED|refused)/,
  );
});

test('host key mismatch stops that host with a clear message', async () => {
  const known = join(mkdtempSync(join(tmpdir(), 'fb-kh-')), 'known_hosts');
  // lab3's key recorded under lab2's address: the key lab2 presents is "changed".
  const lab3Key = readFileSync(info.knownHostsPath, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('127.0.1.3 '));
  assert.ok(lab3Key !== undefined);
  writeFileSync(known, `${lab3Key.replace('127.0.1.3 ', '127.0.1.2 ')}\n`);
  const inv = inventoryWith((i) => {
    i.defaults.knownHosts = known;
  });
  const r = await fleetbook(
    ['run', 'test/e2e/playbooks/bad-input.js', '-i', inv, '--limit', HOST, '--json'],
    { FB_CASE: 'none' },
  );
  assert.equal(r.code, 4);
  const [end] = taskEnds(r, HOST);
  assert.equal(end?.outcome, 'unreachable');
  assert.match(
    end?.message ?? '',
    /host key verification failed: the host key of 127\.0\.1\.2 has CHANGED \(now SHA256:\S+; .*known_hosts line 1 has another\)/,
  );
  assert.equal(
    (await onHost(HOST, 'test -e /etc/fb-canary && echo present || echo absent')).trim(),
    'absent',
  );
});

test('an unknown host key is refused unless new keys are accepted, then recorded', async () => {
  const known = join(mkdtempSync(join(tmpdir(), 'fb-kh-')), 'known_hosts');
  const inv = inventoryWith((i) => {
    i.defaults.knownHosts = known;
  });
  const refused = await fleetbook(
    ['run', 'test/e2e/playbooks/bad-input.js', '-i', inv, '--limit', HOST, '--check', '--json'],
    { FB_CASE: 'none' },
  );
  assert.equal(refused.code, 4);
  assert.match(
    taskEnds(refused, HOST)[0]?.message ?? '',
    /is not in .*known_hosts \(its key is SHA256:/,
  );
  const accepted = await fleetbook(
    [
      'run',
      'test/e2e/playbooks/bad-input.js',
      '-i',
      inv,
      '--limit',
      HOST,
      '--check',
      '--json',
      '--accept-new-host-keys',
    ],
    { FB_CASE: 'none' },
  );
  assert.equal(accepted.code, 0, accepted.stdout + accepted.stderr);
  assert.match(readFileSync(known, 'utf8'), /^127\.0\.1\.2 ssh-ed25519 \S+\n$/);
  const again = await fleetbook(
    ['run', 'test/e2e/playbooks/bad-input.js', '-i', inv, '--limit', HOST, '--check', '--json'],
    { FB_CASE: 'none' },
  );
  assert.equal(again.code, 0);
});

test('become: connect as deploy, act as root through sudo -n', async () => {
  const inv = inventoryWith((i) => {
    i.defaults.user = 'deploy';
    i.defaults.become = true;
  });
  const r = await fleetbook(
    ['run', 'test/e2e/playbooks/bad-input.js', '-i', inv, '--limit', HOST, '--json'],
    { FB_CASE: 'none' },
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(
    (await onHost(HOST, 'stat -c "%U %a" /srv/fb-bad /etc/fb-canary')).trim(),
    'root 755\nroot 644',
  );
  await onHost(HOST, 'rm -rf /srv/fb-bad /etc/fb-canary');
});
