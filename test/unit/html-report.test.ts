import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderReport } from '../../src/reporter/html-report.ts';
import { newHostJournal, type Journal, type JournalTask } from '../../src/runner/journal.ts';

const task = (
  over: Partial<JournalTask> & Pick<JournalTask, 'title' | 'outcome'>,
): JournalTask => ({
  index: 1,
  type: 'command',
  handler: false,
  durationMs: 500,
  changes: [],
  finishedAt: '2026-12-06T10:00:01.000Z',
  ...over,
});

function journal(over: Partial<Journal> = {}, hosts: Journal['hosts'] = {}): Journal {
  return {
    runId: '20261206T100000Z-abc123',
    playbook: 'playbooks/site.ts',
    inventory: 'inventories/staging.yaml',
    environment: 'staging',
    check: false,
    user: 'ops@laptop',
    startedAt: '2026-12-06T10:00:00.000Z',
    finishedAt: '2026-12-06T10:00:02.000Z',
    exitCode: 0,
    hosts,
    ...over,
  };
}

/** A journal as a killed controller leaves it: no end, no exit code. */
function killed(): Journal {
  const { finishedAt, exitCode, ...rest } = journal();
  assert.ok(finishedAt !== undefined && exitCode !== undefined);
  return rest;
}

const host = (status: Journal['hosts'][string]['status'], tasks: JournalTask[]) => ({
  ...newHostJournal(status),
  tasks,
});

// Each case: a journal, what the page must hold, what it must not.
const cases: { name: string; j: Journal; has: (string | RegExp)[]; not?: (string | RegExp)[] }[] = [
  {
    name: 'the summary: who, when, how long, and the mode',
    j: journal({ check: true, exitCode: 2 }),
    has: [
      '<dd data-field="who">ops@laptop</dd>',
      '<dd data-field="duration">2.00 s</dd>',
      '<dd data-field="mode">check (--check: nothing was changed)</dd>',
      '<dd data-field="exit code">2</dd>',
      '<title>fleetbook check 20261206T100000Z-abc123</title>',
    ],
  },
  {
    name: 'a killed run: no duration, no exit code, said so',
    j: killed(),
    has: ['did not finish (killed?)', '<dd data-field="exit code">none</dd>'],
  },
  {
    name: 'text from tasks and hosts is escaped, never markup',
    j: journal(
      {},
      {
        'web<1>': host('failed', [
          task({ title: '<script>alert(1)</script>', outcome: 'failed', message: 'a & "b"' }),
        ]),
      },
    ),
    has: [
      '&lt;script&gt;alert(1)&lt;/script&gt;',
      'data-host="web&lt;1&gt;"',
      'a &amp; &quot;b&quot;',
    ],
    not: ['<script>'],
  },
  {
    name: 'a host that did not run a task has an empty cell; outcomes are classes',
    j: journal(
      {},
      {
        web1: host('changed', [
          task({ title: 'a', outcome: 'changed' }),
          task({ title: 'b', outcome: 'ok' }),
        ]),
        web2: host('ok', [task({ title: 'a', outcome: 'ok' })]),
      },
    ),
    has: [/<tr data-host="web2" class="s-ok">.*<td class="o-ok"[^>]*>✓<\/td><td class="none"/],
  },
  {
    name: 'a failure kept (no rollback) says how to undo it',
    j: journal(
      {},
      {
        web1: {
          ...host('failed', [task({ title: 'x', outcome: 'failed', message: 'boom' })]),
          undo: [{ op: 'run', describe: 'rm /x', script: 'rm /x', task: 1 }],
        },
      },
    ),
    has: ['Not rolled back: its changes were kept (fleetbook rollback can undo 1 step)', 'boom'],
  },
  {
    name: 'no diff at all, and no failure',
    j: journal({}, { web1: host('ok', [task({ title: 'a', outcome: 'ok' })]) }),
    has: ['No task changed anything.', '<h2>Failures</h2><p>None.</p>'],
  },
  {
    name: 'a diff: added and removed lines marked, attributes and items shown',
    j: journal(
      {},
      {
        web1: host('changed', [
          task({
            title: 'conf',
            outcome: 'changed',
            diff: [
              { kind: 'file', path: '/etc/x', unified: '--- a\n+++ b\n@@ -1 +1 @@\n-old\n+new\n' },
              { kind: 'attr', subject: '/etc/x', field: 'mode', before: '0644', after: '0640' },
              { kind: 'item', sign: '+', text: 'package nginx' },
            ],
          }),
        ]),
      },
    ),
    has: [
      '<span class="del">-old</span>',
      '<span class="add">+new</span>',
      '/etc/x mode: 0644 -&gt; 0640',
      '<span class="add">+ package nginx</span>',
      '<details open',
    ],
  },
  {
    name: 'a fleet-sized run: diffs closed until clicked',
    j: journal(
      {},
      Object.fromEntries(
        Array.from({ length: 21 }, (_, i) => [
          `web${i}`,
          host('changed', [
            task({
              title: 'a',
              outcome: 'changed',
              diff: [{ kind: 'item', sign: '+', text: 'x' }],
            }),
          ]),
        ]),
      ),
    ),
    has: ['<details data-host="web20">'],
    not: ['<details open'],
  },
];

for (const c of cases)
  test(`report: ${c.name}`, () => {
    const html = renderReport(c.j);
    for (const h of c.has)
      if (typeof h === 'string') assert.ok(html.includes(h), `missing ${h}`);
      else assert.match(html, h);
    for (const n of c.not ?? [])
      if (typeof n === 'string') assert.ok(!html.includes(n), `has ${n}`);
      else assert.doesNotMatch(html, n);
  });

test('report: no script, no external asset, and a policy that forbids fetching any', () => {
  const html = renderReport(
    journal({}, { web1: host('ok', [task({ title: 'a', outcome: 'ok' })]) }),
  );
  assert.doesNotMatch(html, /<script|<link|src=|https?:\/\//);
  assert.match(
    html,
    /Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"/,
  );
});
