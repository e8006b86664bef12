import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLocal } from './fixtures.ts';
import type { RunEvent, TaskEndEvent } from '../../src/runner/events.ts';
import { loadJournal } from '../../src/runner/journal.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { runDetails, runLine } from '../../src/reporter/runs-view.ts';
import { Redactor } from '../../src/reporter/redact.ts';
import '../support/age-identity.ts';

// The whole runner — validation, probe, plan, check-mode simulation, atomic writes, journal —
// on the controller itself through the local transport: fast, and no lab needed.
const work = mkdtempSync(join(tmpdir(), 'fb-local-'));
const inventory = join(work, 'inventory.yaml');
writeFileSync(inventory, 'environment: development\nhosts:\n  self: { connection: local }\n');
process.env.FLEETBOOK_STATE_DIR = join(work, 'state');

async function run(
  check: boolean,
  value: string,
): Promise<{ ends: TaskEndEvent[]; exitCode: number }> {
  process.env.FB_DIR = work;
  process.env.FB_VALUE = value;
  return runLocal('test/fixtures/playbooks/local-files.ts', inventory, check);
}

test('four passes through the local transport, with a diff of the changed line', async () => {
  const c1 = await run(true, '1');
  assert.deepEqual(
    c1.ends.map((e) => e.outcome),
    ['would-change', 'would-change'],
  );
  assert.throws(() => statSync(join(work, 'conf')), /ENOENT/, '--check created the directory');
  const a1 = await run(false, '1');
  assert.deepEqual(
    a1.ends.map((e) => e.outcome),
    ['changed', 'changed'],
  );
  assert.equal(readFileSync(join(work, 'conf/app.ini'), 'utf8'), 'value = 1\n');
  assert.equal(statSync(join(work, 'conf/app.ini')).mode & 0o777, 0o640);
  assert.equal(statSync(join(work, 'conf')).mode & 0o777, 0o750);
  const c2 = await run(true, '1');
  assert.deepEqual(
    c2.ends.map((e) => e.outcome),
    ['ok', 'ok'],
  );
  const c3 = await run(true, '2');
  assert.deepEqual(
    c3.ends.map((e) => e.outcome),
    ['ok', 'would-change'],
  );
  const diff = c3.ends[1]?.diff[0];
  assert.ok(diff?.kind === 'file');
  assert.match(diff.unified, /^-value = 1\n\+value = 2$/m);
  assert.match(diff.unified, /^--- self:.*\/conf\/app\.ini\t\(before\)$/m);
});

async function runSecret(
  check: boolean,
  extra: { tags?: string[] } = {},
): Promise<{ events: RunEvent[]; exitCode: number; runId: string }> {
  process.env.FB_DIR = work;
  return runLocal('test/fixtures/playbooks/local-secret.ts', inventory, check, extra);
}

test('--check stores no generated secret, says so, and its journal records a check that found changes', async () => {
  process.env.FLEETBOOK_SECRETS_DIR = join(work, 'secrets');
  const c = await runSecret(true);
  assert.equal(c.exitCode, 0);
  assert.throws(() => statSync(join(work, 'secrets')), /ENOENT/, '--check wrote the secrets store');
  const warning = c.events.find((e) => e.type === 'warning');
  assert.match(
    warning?.type === 'warning' ? warning.message : '',
    /secret token is not generated yet: this check run used a temporary value and stored nothing/,
  );
  const journal = await loadJournal(c.runId);
  assert.equal(journal.check, true);
  assert.equal(journal.hosts.self?.status, 'would-change');
  const line = runLine(journal, [journal]);
  assert.match(line, /check .* hosts: 1 would-change; tasks: 1 would change, 0 unknown, 0 failed/);
  assert.match(runDetails(journal, [journal]), /self: would-change\n.*would-change +copyFile/);
  // The real run generates and keeps it; the verify action's side effect is in the journal.
  const a = await runSecret(false);
  assert.equal(a.exitCode, 0);
  assert.match(readFileSync(join(work, 'secrets', 'development.age'), 'utf8'), /^-----BEGIN AGE/);
  const real = await loadJournal(a.runId);
  assert.deepEqual(
    real.hosts.self?.tasks.map((t) => t.sideEffects),
    [undefined, ['sends a note to ops']],
  );
  assert.match(runDetails(real, [real]), /side effect, cannot be undone: sends a note to ops/);
});

test('--tags that no task carries warns, naming the tags there are', async () => {
  const r = await runSecret(true, { tags: ['confg'] });
  assert.equal(r.exitCode, 0);
  const w = r.events.find((e) => e.type === 'warning' && e.message.includes('confg'));
  assert.ok(w?.type === 'warning');
  assert.equal(w.message, 'no task is tagged "confg" (tags in this playbook: config, notify)');
});

test('an environment that is not declared is refused, with a did-you-mean', async () => {
  const inv = join(work, 'prod.yaml');
  writeFileSync(inv, 'environment: prod\nhosts:\n  self: { connection: local }\n');
  await assert.rejects(
    runLocal('test/fixtures/playbooks/local-files.ts', inv, true),
    (e: unknown) =>
      e instanceof ConfigError &&
      /prod\.yaml: environment: "prod" is not a known environment \(did you mean "production"\?\)/.test(
        e.describe(),
      ),
  );
  writeFileSync(
    inv,
    'environment: prod\nenvironments: [prod]\nhosts:\n  self: { connection: local }\n',
  );
  process.env.FB_DIR = work;
  const r = await runLocal('test/fixtures/playbooks/local-files.ts', inv, true);
  assert.equal(r.exitCode, 0, 'declared in the inventory: accepted');
});

test("a command's output is kept: on its task-end event, and in the journal with secrets masked", async () => {
  process.env.FLEETBOOK_SECRETS_DIR = join(work, 'secrets-command');
  const redactor = new Redactor();
  const secrets: string[] = [];
  const r = await runLocal('test/fixtures/playbooks/local-command.ts', inventory, false, {
    onSecret: (v) => {
      secrets.push(v);
      redactor.add(v);
    },
    redact: (t) => redactor.redact(t),
  });
  const { events } = r;
  assert.equal(r.exitCode, 0);
  const [token] = secrets;
  assert.ok(token !== undefined && token.length >= 32);
  const end = events.find((e): e is TaskEndEvent => e.type === 'task-end');
  assert.deepEqual(end?.output, [
    { step: 'print a greeting', stdout: `hello\ntoken=${token}\n`, stderr: 'warn\n' },
  ]);
  const journal = await loadJournal(r.runId);
  const kept = journal.hosts.self?.tasks[0]?.output;
  assert.equal(kept?.[0]?.stdout.startsWith('hello\ntoken='), true, JSON.stringify(kept));
  assert.equal(JSON.stringify(journal).includes(token), false, 'the journal holds the secret');
  assert.equal(kept?.[0]?.stderr, 'warn\n');
  // `fleetbook show RUN_ID` shows it too, as masked as the journal holds it.
  assert.match(
    runDetails(journal, [journal]),
    /output of print a greeting:\n {11}\| hello\n {11}\| token=\*+\n {11}\| warn/,
  );
});
