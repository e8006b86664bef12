import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLabMail, type LabInfo } from '../../src/lab/index.ts';
import {
  assertHealthy,
  assertPredicted,
  fleetbook,
  HOSTS as OWNED,
  lab,
  setSmarthostPassword,
  taskEnds,
} from './helpers.ts';

const HOSTS = OWNED.sixTasks;
let info: LabInfo;
const env: Record<string, string> = { FLEETBOOK_TEMPLATES: 'test/fixtures/templates' };

before(async () => {
  info = await lab('sixTasks');
  env.FLEETBOOK_SECRETS_DIR = mkdtempSync(join(tmpdir(), 'fb-secrets-'));
  await setSmarthostPassword(info, env.FLEETBOOK_SECRETS_DIR);
});

// The host must be healthy after this file changed it, not merely "the task said ok".
after(() => assertHealthy(HOSTS));

function run(args: readonly string[]) {
  return fleetbook(
    [
      'run',
      'test/e2e/playbooks/six-tasks.ts',
      '-i',
      info.inventoryPath,
      '--limit',
      HOSTS.join(','),
      '--json',
      ...args,
    ],
    env,
  );
}

test('all six tasks on 5 hosts in parallel; verifyMail reaches the smarthost; a second run changes nothing', async () => {
  const check = await run(['--check', '--diff']);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  const password = (await import('node:fs'))
    .readFileSync('/var/lib/fleetbook/lab/smarthost.password', 'utf8')
    .trim();
  assert.ok(
    !check.stdout.includes(password),
    'the smarthost password appeared in --check --diff output',
  );
  for (const h of HOSTS) {
    const ends = taskEnds(check, h);
    // Later tasks see what earlier ones would do: no false failures in check mode. The package's
    // own auth.conf (a conffile) is predicted, so the diff is against it; dma.conf is written by
    // the package's postinst, which check mode does not run: it says so.
    assert.deepEqual(
      ends.map((e) => e.outcome),
      [
        'would-change',
        'unknown',
        'would-change',
        'would-change',
        'would-change',
        'ok',
        'would-change',
      ],
      `${h}: ${JSON.stringify(ends.map((e) => [e.task, e.outcome, e.message]))}`,
    );
    assert.deepEqual(ends.find((e) => e.task === 'templateFile /etc/dma/auth.conf')?.changes, [
      'update file /etc/dma/auth.conf (0640 root:mail)',
    ]);
    assert.match(
      ends[1]?.message ?? '',
      /^\/etc\/dma\/dma\.conf: package dma, which an earlier task would install, may create or change it/,
    );
  }

  const t0 = Date.now();
  const apply = await run([]);
  const applyMs = Date.now() - t0;
  assert.equal(apply.code, 0, apply.stdout + apply.stderr);
  // The dry run on fresh hosts told the truth, task by task.
  assertPredicted(check, apply, HOSTS);
  const starts = apply.events
    .filter((e) => e.type === 'task-start')
    .map((e) => (e.type === 'task-start' ? e.host : ''));
  assert.notDeepEqual(
    starts.slice(0, 5),
    [HOSTS[0], HOSTS[0], HOSTS[0], HOSTS[0], HOSTS[0]],
    'hosts did not run in parallel',
  );
  const mail = await readLabMail();
  for (const h of HOSTS) {
    const verify = taskEnds(apply, h).find((e) => e.taskType === 'verifyMail');
    assert.equal(verify?.outcome, 'ok', JSON.stringify(verify));
    const token = /\b([0-9a-f]{16,})\b/.exec(
      mail.find((m) => m.to.includes(`ops+${h}@example.org`))?.raw ?? '',
    )?.[1];
    assert.ok(token !== undefined, `no message for ${h} in the smarthost store`);
    const msg = mail.find((m) => m.to.includes(`ops+${h}@example.org`) && m.raw.includes(token));
    assert.equal(msg?.authUser, 'fleetbook');
    assert.equal(msg?.tls, true);
  }

  const again = await run([]);
  assert.equal(again.code, 0);
  for (const h of HOSTS)
    assert.ok(
      taskEnds(again, h).every((e) => e.outcome === 'ok'),
      JSON.stringify(taskEnds(again, h)),
    );
  process.stdout.write(`# first run on 5 fresh hosts: ${applyMs} ms\n`);
});
