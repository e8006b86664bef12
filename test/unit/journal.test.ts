import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunId } from '../../src/runner/run.ts';
import {
  journalFromLog,
  listJournals,
  loadJournal,
  newHostJournal,
  RunLog,
  saveJournal,
  type Journal,
  type UndoRecord,
} from '../../src/runner/journal.ts';

/** A journal of a run with these hosts; files go to a fresh state dir. */
function journal(runId: string, hosts: string[]): Journal {
  process.env.FLEETBOOK_STATE_DIR = mkdtempSync(join(tmpdir(), 'fb-journal-'));
  return {
    runId,
    playbook: 'p.ts',
    inventory: 'i.yaml',
    environment: 'test',
    check: false,
    startedAt: new Date(0).toISOString(),
    hosts: Object.fromEntries(hosts.map((h) => [h, newHostJournal()])),
  };
}

const restore = (path: string): UndoRecord => ({
  op: 'restore',
  path,
  backup: `run/${path.length}`,
  written: 'a'.repeat(64),
  task: 1,
});

test('a killed run leaves a log from its first change on, enough to roll it back', async () => {
  const j = journal('20261121T000000Z-kill', ['h1', 'h2']);
  const log = new RunLog(j, (t) => t.replaceAll('secret', '***'));
  log.add({
    t: 'task',
    host: 'h1',
    task: {
      index: 1,
      title: 't',
      type: 'x',
      handler: false,
      outcome: 'ok',
      durationMs: 1,
      changes: [],
    },
  });
  await log.sync();
  // Nothing changed yet: no file at all.
  assert.deepEqual(await listJournals(), []);
  log.add({
    t: 'undo',
    host: 'h1',
    task: 2,
    change: 'write /etc/secret',
    undo: [restore('/etc/a')],
    afterUndo: [],
  });
  log.add({
    t: 'undo',
    host: 'h2',
    task: 2,
    undo: [restore('/etc/b')],
    afterUndo: [{ op: 'run', describe: 'restart x', script: 'systemctl restart x' }],
  });
  await log.sync();
  // The controller dies here: no final journal, only the log.
  const back = await loadJournal(j.runId);
  assert.equal(back.finishedAt, undefined);
  assert.deepEqual(
    back.hosts.h1?.undo.map((u) => u.op === 'restore' && u.path),
    ['/etc/a'],
  );
  assert.equal(back.hosts.h1?.status, 'running');
  assert.equal(back.hosts.h1?.tasks.length, 1, 'tasks queued before the first change are kept');
  assert.equal(back.hosts.h2?.afterUndo[0]?.describe, 'restart x');
  const text = readFileSync(
    join(process.env.FLEETBOOK_STATE_DIR ?? '', 'runs', `${j.runId}.log`),
    'utf8',
  );
  assert.ok(!text.includes('secret'), 'log lines are redacted');
  assert.equal((await listJournals()).map((x) => x.runId).join(), j.runId);
});

test('a finished run: the journal is saved and the log removed', async () => {
  const j = journal('20261121T000001Z-done', ['h1']);
  const log = new RunLog(j, (t) => t);
  log.add({ t: 'undo', host: 'h1', task: 1, undo: [restore('/etc/a')], afterUndo: [] });
  await log.sync();
  j.finishedAt = new Date().toISOString();
  j.exitCode = 0;
  await saveJournal(j, (t) => t);
  await log.close();
  const dir = join(process.env.FLEETBOOK_STATE_DIR ?? '', 'runs');
  assert.deepEqual(readdirSync(dir), [`${j.runId}.json`]);
  assert.equal((await loadJournal(j.runId)).exitCode, 0);
});

test('a log cut short in its last line still reads', () => {
  const j = journal('20261121T000002Z-cut', ['h1']);
  const { hosts, ...meta } = j;
  const text =
    `${JSON.stringify({ t: 'run', journal: { ...meta, hosts: Object.keys(hosts) } })}\n` +
    `${JSON.stringify({ t: 'undo', host: 'h1', task: 1, undo: [restore('/x')], afterUndo: [] })}\n` +
    '{"t":"undo","host":"h1","undo":[{"op":"rest';
  const back = journalFromLog(text);
  assert.equal(back?.hosts.h1?.undo.length, 1);
});

test('run ids sort by start time, within a second too, and keep their shape', () => {
  const at = (ms: number) => newRunId(new Date(Date.UTC(2026, 11, 2, 16, 10, 12, ms)));
  const ids = [0, 1, 9, 10, 255, 256, 998, 999].map(at);
  for (const id of ids) assert.match(id, /^20261202T161012Z-[0-9a-f]{6}$/);
  assert.deepEqual([...ids].sort(), ids);
  // A second later sorts after all of them.
  assert.ok(newRunId(new Date(Date.UTC(2026, 11, 2, 16, 10, 13, 0))) > (ids.at(-1) ?? ''));
});
