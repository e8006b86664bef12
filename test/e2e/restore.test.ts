// Rollback restores exactly, on fresh hosts (issue 13): the reference deployment (lab47) and the
// six-tasks playbook (lab48), each undone twice, by the automatic rollback of a failed first run
// and by `fleetbook rollback` of a successful one, must leave the host as it was before, as
// hostState (host-state.ts) sees it: packages, units, accounts and files.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LabInfo } from '../../src/lab/index.ts';
import {
  assertHealthy,
  fleetbook,
  HOSTS as OWNED,
  lab,
  setSmarthostPassword,
  taskEnds,
  type CliResult,
} from './helpers.ts';
import { developmentVars, DJANGO_PLAYBOOK, writeDjangoInventory } from './django-lab.ts';
import { assertSameState, hostState } from './host-state.ts';

const [DJANGO, SIX] = OWNED.restore;
let info: LabInfo;
let work: string;
let env: Record<string, string>;
let djangoInventory: string;
/** Each host as the lab made it, fresh. */
const fresh = new Map<string, string>();

before(async () => {
  info = await lab('restore');
  work = await mkdtemp(path.join(tmpdir(), 'fb-restore-e2e-'));
  await chmod(work, 0o700);
  const secrets = path.join(work, 'secrets');
  env = { FLEETBOOK_SECRETS_DIR: secrets, FLEETBOOK_TEMPLATES: 'test/fixtures/templates' };
  djangoInventory = await writeDjangoInventory(
    info,
    [DJANGO],
    path.join(work, 'django.yaml'),
    await developmentVars(),
  );
  await setSmarthostPassword(info, secrets);
  for (const h of OWNED.restore) fresh.set(h, await hostState(h));
});

after(async () => {
  await assertHealthy(OWNED.restore);
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

/** The Django deployment on its host, or the six tasks on theirs; `failing` adds a failing last task. */
function deploy(which: 'django' | 'six', failing: boolean): Promise<CliResult> {
  const playbook =
    which === 'django'
      ? failing
        ? 'test/e2e/playbooks/django-forced-failure.ts'
        : DJANGO_PLAYBOOK
      : `test/e2e/playbooks/six-tasks${failing ? '-forced-failure' : ''}.ts`;
  const [inventory, host] =
    which === 'django' ? [djangoInventory, DJANGO] : [info.inventoryPath, SIX];
  return fleetbook(
    ['run', playbook, '-i', inventory, '--limit', host ?? '', '--json', '--skip-tags', 'mail'],
    env,
  );
}

const CASES = [
  ['django', DJANGO],
  ['six', SIX],
] as const;

/** Both cases at once (they have their own hosts); every case's failure is reported, not the first. */
async function onEachHost(
  check: (which: 'django' | 'six', host: string) => Promise<void>,
): Promise<void> {
  const results = await Promise.allSettled(CASES.map(([which, host = '']) => check(which, host)));
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  assert.deepEqual(failed, [], failed.join('\n\n'));
  await assertHealthy(OWNED.restore);
}

test('the automatic rollback of a failed first run leaves each fresh host as it was', async () => {
  await onEachHost(async (which, host) => {
    const r = await deploy(which, true);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const ends = taskEnds(r, host);
    assert.equal(ends.at(-1)?.outcome, 'failed', JSON.stringify(ends));
    assert.ok(
      ends.filter((e) => e.outcome === 'changed').length >= 5,
      `${host}: the run changed too little to test its rollback`,
    );
    const failedUndo = r.events.filter((e) => e.type === 'rollback' && !e.ok);
    assert.deepEqual(failedUndo, [], `${host}: undo steps failed`);
    assertSameState(host, fresh.get(host) ?? '', await hostState(host), 'the automatic rollback');
  });
});

test('fleetbook rollback of a successful first run leaves each fresh host as it was', async () => {
  await onEachHost(async (which, host) => {
    const r = await deploy(which, false);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const runId = r.events.find((e) => e.type === 'run-start')?.runId ?? '';
    const rb = await fleetbook(['rollback', runId], env);
    assert.equal(rb.code, 0, rb.stdout + rb.stderr);
    assertSameState(host, fresh.get(host) ?? '', await hostState(host), 'fleetbook rollback');
  });
});

/** A rollback's steps as the terminal shows them for a host, `would` taken out of a --check's. */
function rollbackSteps(r: CliResult, host: string): string[] {
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith(`${host} `) && / rollback /.test(l))
    .map((l) =>
      l
        .replace(/^\S+ +rollback +/, '')
        .replace(/\bwould (\w)/, '$1')
        .replace(/\bwould skip\b/, 'skip'),
    );
}

test('rolling back an older run after a later one: planned against the live host, --check shows that plan, nothing half-removed', async (t) => {
  const host = DJANGO ?? '';
  const first = await deploy('django', false);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const firstId = first.events.find((e) => e.type === 'run-start')?.runId ?? '';
  // A later run changes settings.py (another admin address); the app writes its database meanwhile.
  const later = await writeDjangoInventory(
    info,
    [DJANGO ?? ''],
    path.join(work, 'django-later.yaml'),
    await developmentVars(),
    (v) => {
      const a = v.admins[0];
      if (a !== undefined) a.email = 'later@example.org';
    },
  );
  const second = await fleetbook(
    ['run', DJANGO_PLAYBOOK, '-i', later, '--limit', host, '--json', '--skip-tags', 'mail'],
    env,
  );
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.ok(
    taskEnds(second, host).some((e) => e.outcome === 'changed' && e.task.includes('settings.py')),
  );

  const plan = await fleetbook(['rollback', firstId, '--check'], env);
  assert.equal(plan.code, 2, plan.stdout + plan.stderr);
  const rb = await fleetbook(['rollback', firstId], env);
  assert.equal(rb.code, 2, rb.stdout + rb.stderr);
  const done = rollbackSteps(rb, host);
  t.diagnostic(`the rollback of ${firstId} on ${host}:\n${done.join('\n')}`);
  assert.deepEqual(rollbackSteps(plan, host), done, '--check showed another plan');
  // What the later run changed is left alone and said so; what depends on it is skipped with
  // the reason; nothing failed halfway.
  assert.ok(
    done.some((l) =>
      /^restore \/etc\/opt\/fbdemo\/settings\.py: left alone: .* changed since this run wrote it$/.test(
        l,
      ),
    ),
    done.join('\n'),
  );
  assert.ok(
    done.some((l) => /^rmdir \/etc\/opt\/fbdemo: skipped: \/etc\/opt\/fbdemo is not empty/.test(l)),
    done.join('\n'),
  );
  // settings.py has the app's group: the user and its group stay, rather than leave it a number.
  assert.ok(
    done.some((l) =>
      /^userdel fbdemo: skipped: group fbdemo still owns .*\/etc\/opt\/fbdemo\/settings\.py/.test(
        l,
      ),
    ),
    done.join('\n'),
  );
  assert.ok(
    done.some((l) =>
      /^groupdel fbdemo: skipped: group fbdemo is still the primary group of fbdemo/.test(l),
    ),
    done.join('\n'),
  );
  assert.deepEqual(
    done.filter((l) => /FAILED/.test(l)),
    [],
    'undo steps failed halfway',
  );
  await assertHealthy([host]);
});
