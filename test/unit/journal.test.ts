import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadJournal,
  newHostJournal,
  saveJournal,
  saveJournalSoon,
  type Journal,
} from '../../src/runner/journal.ts';

/** A journal of a run with these hosts; saves go to a fresh state dir. */
function journal(runId: string, hosts: Journal['hosts']): Journal {
  process.env.FLEETBOOK_STATE_DIR = mkdtempSync(join(tmpdir(), 'fb-journal-'));
  return {
    runId,
    playbook: 'p.ts',
    inventory: 'i.yaml',
    environment: 'test',
    check: false,
    startedAt: new Date(0).toISOString(),
    hosts,
  };
}

test('saves of one journal made while others are under way lose nothing: the file ends with the last state', async () => {
  const j = journal('20261121T000000Z-test', {});
  const saves: Promise<void>[] = [];
  // Hosts finishing in a burst: each adds itself and asks for a save without waiting.
  for (let i = 0; i < 50; i++) {
    j.hosts[`h${i}`] = { ...newHostJournal(), status: 'ok' };
    saves.push(saveJournal(j, (t) => t.replaceAll('secret', '***')));
  }
  await Promise.all(saves);
  const saved = await loadJournal(j.runId);
  assert.equal(Object.keys(saved.hosts).length, 50);
  assert.equal(saved.hosts.h49?.status, 'ok');
  // A save asked for after the burst is written too.
  j.exitCode = 0;
  await saveJournal(j, (t) => t);
  assert.equal((await loadJournal(j.runId)).exitCode, 0);
});

test('a save asked for while hosts run lands within half a second; the final save cancels a pending one', async () => {
  const j = journal('20261121T000001Z-soon', { h1: { ...newHostJournal(), status: 'changed' } });
  saveJournalSoon(j, (t) => t);
  await new Promise((r) => setTimeout(r, 700));
  assert.equal((await loadJournal(j.runId)).hosts.h1?.status, 'changed');
  j.hosts.h2 = { ...newHostJournal(), status: 'ok' };
  saveJournalSoon(j, (t) => t);
  j.exitCode = 0;
  await saveJournal(j, (t) => t);
  const saved = await loadJournal(j.runId);
  assert.equal(saved.hosts.h2?.status, 'ok');
  assert.equal(saved.exitCode, 0);
});
