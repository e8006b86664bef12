import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LabInfo } from '../../src/lab/index.ts';
import { assertHealthy, fleetbook, HOSTS as OWNED, lab, onHost, taskEnds } from './helpers.ts';

const HOSTS = OWNED.rollback;
let info: LabInfo;

before(async () => {
  info = await lab('rollback');
});

// The host must be healthy after this file changed it, not merely "the task said ok".
after(() => assertHealthy(HOSTS));

/** Before each test: a pre-existing file with its own bytes, mode and owner; nothing else. */
async function setUp(host: string): Promise<string> {
  await onHost(
    host,
    `apt-get purge -y -q jq libjq1 libonig5 >/dev/null 2>&1; rm -rf /srv/fb-rb /etc/fb-rb; mkdir -p /etc/fb-rb && printf 'original\\ncontent\\n' > /etc/fb-rb/existing.conf && chown daemon:daemon /etc/fb-rb/existing.conf && chmod 0644 /etc/fb-rb/existing.conf`,
  );
  return state(host);
}

/** The file, the directory, and every package's dpkg status (what an undo must leave as it was). */
function state(host: string): Promise<string> {
  return onHost(
    host,
    `sha256sum /etc/fb-rb/existing.conf; stat -c '%a %U %G' /etc/fb-rb/existing.conf; ls -d /srv/fb-rb 2>&1 || true; dpkg-query -W -f='\${Package} \${Status}\\n' | sha256sum; ls /etc/fb-rb`,
  );
}

function run(args: readonly string[], env: Record<string, string> = {}) {
  return fleetbook(
    ['run', 'test/e2e/playbooks/rollback.ts', '-i', info.inventoryPath, '--json', ...args],
    { FLEETBOOK_TEMPLATES: 'test/fixtures/templates', ...env },
  );
}

/**
 * Where the host's journal ends now. Counting from it, not from a time, leaves out a cron start
 * of the host's own boot a second earlier (a time has whole seconds and needs a slack).
 */
async function journalEnd(host: string): Promise<string> {
  const out = await onHost(host, 'journalctl -n 0 --show-cursor');
  const cursor = /^-- cursor: (\S+)$/m.exec(out)?.[1];
  assert.ok(cursor !== undefined, `no journal cursor on ${host}: ${out}`);
  return cursor;
}

async function cronStarts(host: string, after: string): Promise<number> {
  const out = await onHost(
    host,
    `journalctl -u cron --after-cursor='${after}' -o cat | grep -c '^Started' || true`,
  );
  return Number(out.trim());
}

test('a failed 5th task undoes tasks 1-4 on every host, and the service is restarted once more', async () => {
  const before = await Promise.all(HOSTS.map(setUp));
  const since = await Promise.all(HOSTS.map(journalEnd));
  const r = await run(['--limit', HOSTS.join(',')], { FB_FAIL_HOSTS: 'all' });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  for (const [i, host] of HOSTS.entries()) {
    const ends = taskEnds(r, host);
    assert.deepEqual(
      ends.map((e) => e.outcome),
      ['changed', 'changed', 'changed', 'changed', 'failed'],
      host,
    );
    assert.match(ends[4]?.message ?? '', /exit code 3/);
    assert.equal(await state(host), before[i], `${host} was not put back as it was`);
    // The forced restart (task 4) and its replay after the undo.
    assert.equal(await cronStarts(host, since[i] ?? ''), 2, `${host}: cron restarts`);
    // Backups stay on the host, readable by root only.
    assert.match(await onHost(host, 'stat -c %a /var/lib/fleetbook/backups'), /^700$/m);
    assert.equal(
      (
        await onHost(
          host,
          "su nobody -s /bin/sh -c 'cat /var/lib/fleetbook/backups/*/* 2>&1 | head -1' || true",
        )
      ).includes('original'),
      false,
    );
  }
  const rollbacks = r.events.filter((e) => e.type === 'rollback');
  assert.ok(
    rollbacks.length >= HOSTS.length * 4 && rollbacks.every((e) => e.ok),
    JSON.stringify(rollbacks),
  );
});

test('fleetbook rollback RUN_ID undoes a finished run; a file edited since is left alone and reported', async () => {
  const before = await Promise.all(HOSTS.map(setUp));
  const r = await run(['--limit', HOSTS.join(',')]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const runId = r.events.find((e) => e.type === 'run-start')?.runId ?? '';
  assert.match(runId, /^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
  await onHost('lab8', "echo 'edited by hand' >> /etc/fb-rb/existing.conf");
  const check = await fleetbook(['rollback', runId, '--check']);
  assert.equal(check.code, 2, check.stdout);
  assert.match(check.stdout, /lab6 +rollback +would restore \/etc\/fb-rb\/existing\.conf/);
  assert.equal(
    (await onHost('lab6', 'cat /etc/fb-rb/existing.conf')).trim(),
    'managed by fleetbook (one)',
    '--check changed a file',
  );
  const rb = await fleetbook(['rollback', runId]);
  assert.equal(rb.code, 2, rb.stdout);
  assert.match(
    rb.stdout,
    /lab8 +rollback +restore \/etc\/fb-rb\/existing\.conf: left alone: \/etc\/fb-rb\/existing\.conf changed since this run wrote it/,
  );
  assert.equal(await state('lab6'), before[0]);
  assert.equal(await state('lab7'), before[1]);
  assert.match(await onHost('lab8', 'cat /etc/fb-rb/existing.conf'), /edited by hand/);
  assert.doesNotMatch(
    await state('lab8'),
    /install ok installed/,
    'other changes on lab8 are still undone',
  );
  const show = await fleetbook(['show', runId]);
  assert.match(show.stdout, /lab6: rolled-back/);
  const runs = await fleetbook(['runs']);
  assert.match(runs.stdout, new RegExp(`^${runId}  apply  test/e2e/playbooks/rollback\\.ts`, 'm'));
});

test('a template whose validate command fails: the live file is unchanged and no restart happens', async () => {
  const host = 'lab6';
  await setUp(host);
  await onHost(host, "printf 'live\\n' > /etc/fb-rb/validated.conf");
  const since = await journalEnd(host);
  const r = await run(['--limit', host, '--no-rollback'], { FB_VALIDATE: 'fail' });
  assert.equal(r.code, 2);
  const failed = taskEnds(r, host).find((e) => e.outcome === 'failed');
  assert.match(
    failed?.message ?? '',
    /validate command failed for \/etc\/fb-rb\/validated\.conf; the live file was not changed/,
  );
  assert.equal(
    await onHost(
      host,
      'cat /etc/fb-rb/validated.conf; ls -a /etc/fb-rb | grep -c fleetbook || true',
    ),
    'live\n0\n',
  );
  assert.ok(!taskEnds(r, host).some((e) => e.handler), 'handler ran');
  assert.equal(await cronStarts(host, since), 1, 'only the forced restart of task 4');
});

test('a restart owed by a failed run without rollback is performed by the next run', async () => {
  const host = 'lab7';
  await onHost(host, 'rm -f /etc/default/fb-owed');
  const pb = [
    'run',
    'test/e2e/playbooks/owed-handler.ts',
    '-i',
    info.inventoryPath,
    '--limit',
    host,
    '--json',
  ];
  const failed = await fleetbook([...pb, '--no-rollback'], { FB_FAIL: '1', FB_TAG: 'owed' });
  assert.equal(failed.code, 2);
  assert.ok(!taskEnds(failed, host).some((e) => e.handler), 'the handler ran despite the failure');
  const since = await journalEnd(host);
  const next = await fleetbook(pb, { FB_TAG: 'owed' });
  assert.equal(next.code, 0, next.stdout + next.stderr);
  const ends = taskEnds(next, host);
  assert.equal(ends[0]?.outcome, 'ok', 'the file was already in place');
  assert.deepEqual(
    ends.filter((e) => e.handler).map((e) => [e.task, e.outcome]),
    [['restart cron', 'changed']],
  );
  assert.equal(await cronStarts(host, since), 1);
  const after = await fleetbook(pb, { FB_TAG: 'owed' });
  assert.ok(!taskEnds(after, host).some((e) => e.handler), 'the owed restart ran twice');
});
