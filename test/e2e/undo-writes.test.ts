// Rollback restores exactly, writes are validated where no include glob sees them, unreadable
// files are not guessed at, and old backups are pruned. On this file's hosts lab9 and lab10
// (reset first; HOSTS in helpers.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { LAB_DEPLOY_USER, type LabInfo } from '../../src/lab/index.ts';
import { assertHealthy, fleetbook, HOSTS, lab, onHost, taskEnds } from './helpers.ts';

const [A, B] = HOSTS.undoWrites;
let info: LabInfo;
let state: string;

before(async () => {
  info = await lab('undoWrites');
  state = await mkdtemp(path.join(tmpdir(), 'fb-undo-'));
});

after(() => assertHealthy([A, B]));

function run(args: readonly string[], env: Record<string, string>, inventory = info.inventoryPath) {
  return fleetbook(
    ['run', 'test/e2e/playbooks/undo-writes.ts', '-i', inventory, '--json', ...args],
    {
      FLEETBOOK_STATE_DIR: state,
      ...env,
    },
  );
}

/** Everything the playbook may touch, as a fingerprint: accounts, modes, owners, inodes, links. */
function fingerprint(host: string): Promise<string> {
  return onHost(
    host,
    'getent passwd fbx || echo no-user; getent group fbx || echo no-group; ' +
      "stat -c '%n %a %U:%G %i %h %s' /usr/local/bin/fb-suid /etc/fb-linked /etc/fb-linked-too 2>&1; " +
      'sha256sum /usr/local/bin/fb-suid /etc/fb-linked',
  );
}

test('a failed first run on a fresh host puts back a new user and group, a setuid bit and a hard link', async () => {
  await onHost(
    A,
    "printf '#!/bin/sh\\necho suid\\n' > /usr/local/bin/fb-suid && chmod 4755 /usr/local/bin/fb-suid && " +
      "printf 'old\\n' > /etc/fb-linked && ln -f /etc/fb-linked /etc/fb-linked-too",
  );
  const before = await fingerprint(A);
  assert.match(before, /fb-suid 4755 root:root/);
  assert.match(before, /\/etc\/fb-linked 644 root:root \d+ 2 /);
  const r = await run(['--limit', A], { FB_PARTS: 'user,suid,link', FB_FAIL: '1' });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.deepEqual(
    taskEnds(r, A).map((e) => e.outcome),
    ['changed', 'changed', 'changed', 'failed'],
  );
  const rollback = r.events.filter((e) => e.type === 'rollback');
  assert.ok(rollback.length > 0);
  for (const e of rollback) assert.ok(e.type === 'rollback' && e.ok, JSON.stringify(e));
  // Same accounts, same mode (setuid kept), same inode and link count: exactly as it was.
  assert.equal(await fingerprint(A), before);
  assert.equal((await onHost(A, 'cat /etc/fb-linked-too')).trim(), 'old');
});

test('a validate sees the new file under its own name, and no include glob of the live directory sees it', async () => {
  await onHost(
    A,
    "mkdir -p /etc/fb-conf.d && printf 'old\\n' > /etc/fb-conf.d/site.conf && printf 'x\\n' > /etc/fb-conf.d/other.conf",
  );
  const r = await run(['--limit', A], { FB_PARTS: 'validate', FB_TAG: 'fresh' });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal((await onHost(A, 'cat /etc/fb-conf.d/site.conf')).trim(), 'fresh');
  // While the validate ran, conf.d/* held only the two real files.
  assert.equal(
    (await onHost(A, 'cat /root/fb-glob-seen')).trim(),
    '/etc/fb-conf.d/other.conf\n/etc/fb-conf.d/site.conf',
  );
  assert.equal((await onHost(A, 'ls -A /etc/fb-conf.d')).trim(), 'other.conf\nsite.conf');
});

test('without become, a root-only file is unknown in --check and a real run says it needs root', async () => {
  await onHost(
    B,
    "mkdir -p /etc/fb-root-only && chmod 0700 /etc/fb-root-only && printf 'old\\n' > /etc/fb-root-only/secret.conf",
  );
  const labInv = YAML.parse(await readFile(info.inventoryPath, 'utf8')) as {
    defaults: Record<string, unknown>;
    hosts: Record<string, unknown>;
  };
  const inv = path.join(state, 'deploy.yaml');
  await writeFile(
    inv,
    YAML.stringify({
      environment: 'development',
      defaults: { ...labInv.defaults, user: LAB_DEPLOY_USER, become: false },
      hosts: { [B]: labInv.hosts[B] },
    }),
  );
  const check = await run(['--check'], { FB_PARTS: 'secret' }, inv);
  const [c] = taskEnds(check, B);
  assert.equal(c?.outcome, 'unknown', JSON.stringify(c));
  assert.match(
    c?.message ?? '',
    /\/etc\/fb-root-only\/secret\.conf: permission denied.*set `become: true`/,
  );
  assert.equal(c?.diff.length, 0, 'no made-up diff of an empty file');
  const real = await run([], { FB_PARTS: 'secret' }, inv);
  const [e] = taskEnds(real, B);
  assert.equal(e?.outcome, 'failed');
  assert.match(e?.message ?? '', /needs root: set `become: true`/);
  assert.equal((await onHost(B, 'cat /etc/fb-root-only/secret.conf')).trim(), 'old');
});

test('backups of all but the newest --keep-backups runs are pruned; `runs` says which can be rolled back', async () => {
  const ids: string[] = [];
  for (const tag of ['one', 'two', 'three']) {
    const r = await run(['--limit', B, '--keep-backups', '2'], { FB_PARTS: 'link', FB_TAG: tag });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const start = r.events.find((x) => x.type === 'run-start');
    assert.ok(start?.type === 'run-start');
    ids.push(start.runId);
  }
  const kept = (await onHost(B, 'ls /var/lib/fleetbook/backups')).trim().split('\n');
  // The pruned run leaves a tombstone, so a rollback can tell why its backups are gone.
  assert.deepEqual(kept, [`${ids[0] ?? ''}.pruned`, ...ids.slice(1)]);
  const runs = await fleetbook(['runs'], { FLEETBOOK_STATE_DIR: state });
  const line = (id: string | undefined) =>
    runs.stdout.split('\n').find((l) => id !== undefined && l.startsWith(id)) ?? '';
  assert.match(line(ids[0]), /backups pruned/);
  assert.match(line(ids[2]), /can be rolled back/);
  const rb = await fleetbook(['rollback', ids[0] ?? ''], { FLEETBOOK_STATE_DIR: state });
  assert.notEqual(rb.code, 0);
  assert.match(rb.stdout, /backup of \/etc\/fb-linked is gone from the host \(pruned/);
});
