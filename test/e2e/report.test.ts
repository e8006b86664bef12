// The run report as a person meets it: a real run on two lab hosts (lab50 and lab51, reset first;
// HOSTS in helpers.ts) in which one host fails and rolls back, written by `fleetbook report` and
// opened in a real browser (Debian's chromium, driven by playwright-core). The screenshot is kept
// in artifacts/ for a person to look at.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import type { LabInfo } from '../../src/lab/index.ts';
import type { Journal } from '../../src/runner/journal.ts';
import { assertHealthy, fleetbook, HOSTS, lab, onHost, ROOT } from './helpers.ts';

const [GOOD, BAD] = HOSTS.report;
const ARTIFACTS = path.join(ROOT, 'artifacts');
let info: LabInfo;
let state: string;
let browser: Browser;

before(async () => {
  info = await lab('report');
  state = await mkdtemp(path.join(tmpdir(), 'fb-report-'));
  // Flags as a root CI machine with no network needs them (../.library: Chromium on this machine).
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser.close();
  await assertHealthy(HOSTS.report);
});

const env = {
  FLEETBOOK_STATE_DIR: '',
  FLEETBOOK_SECRETS_DIR: '',
  FLEETBOOK_TEMPLATES: 'test/fixtures/templates',
};

test('the report of a run where one host failed and rolled back, read in a browser', async () => {
  env.FLEETBOOK_STATE_DIR = state;
  env.FLEETBOOK_SECRETS_DIR = path.join(state, 'secrets');
  const run = await fleetbook(
    [
      'run',
      'test/e2e/playbooks/report.ts',
      '-i',
      info.inventoryPath,
      '--limit',
      `${GOOD},${BAD}`,
      '--json',
    ],
    { ...env, FB_FAIL_ON: BAD },
  );
  assert.equal(run.code, 2, run.stderr);
  const start = run.events.find((e) => e.type === 'run-start');
  assert.ok(start?.type === 'run-start');
  const canary = await fleetbook(['secret', 'get', 'development', 'canary'], env);
  assert.equal(canary.code, 0, canary.stderr);
  const secret = canary.stdout.trim();
  assert.equal(secret.length, 24);

  // For tools: the journal as JSON.
  const shown = await fleetbook(['show', start.runId, '--json'], env);
  const journal = JSON.parse(shown.stdout) as Journal;
  assert.equal(journal.hosts[BAD]?.status, 'rolled-back');
  assert.equal(journal.hosts[GOOD]?.status, 'changed');
  assert.match(journal.user ?? '', /^\S+@\S+$/);

  await mkdir(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, 'report.html');
  const written = await fleetbook(['report', start.runId, '-o', file], env);
  assert.equal(written.code, 0, written.stderr);

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href);

  // The summary a person reads first.
  const field = (name: string) => page.locator(`#summary dd[data-field="${name}"]`).innerText();
  assert.equal(await field('environment'), 'development');
  assert.equal(await field('mode'), 'real run');
  assert.equal(await field('exit code'), '2');
  assert.match(await field('hosts'), /1 changed, 1 rolled-back|1 rolled-back, 1 changed/);

  // The failed host's row: its status, and the failed task's cell, with the message on hover.
  const bad = page.locator(`#matrix tr[data-host="${BAD}"]`);
  assert.equal(await bad.locator('td.status').innerText(), 'rolled-back');
  const failed = bad.locator('td.o-failed');
  assert.equal(await failed.count(), 1);
  assert.match(
    (await failed.getAttribute('title')) ?? '',
    /check the disk: failed .*\n.*refused: disk full/s,
  );
  assert.equal(await page.locator(`#matrix tr[data-host="${GOOD}"] td.o-failed`).count(), 0);

  // The failure, and the rollback that followed it.
  const article = page.locator(`#failures article[data-host="${BAD}"]`);
  const failure = await article.innerText();
  assert.match(failure, /check the disk/);
  assert.match(failure, /refused: disk full/);
  assert.match(failure, /Rolled back: \d+ steps, last first\./);
  assert.match(failure, /restore \/srv\/fb-report\/app\.conf|\/srv\/fb-report\/app\.conf/);

  // The diffs: the plain file's text, and the secret's line masked.
  const diffs = await page.locator('#diffs').innerText();
  assert.match(diffs, /\+colour = blue/);
  assert.match(diffs, /\+password = \*{8}/);

  // Each host has a lane on the timeline with a bar per task it ran.
  assert.equal(await page.locator('#timeline .lane').count(), 2);
  assert.ok((await page.locator('#timeline .track span').count()) >= 8);

  // No form of the secret in the DOM, and nothing fetched but the file itself.
  const dom = await page.content();
  for (const form of [
    secret,
    encodeURIComponent(secret),
    Buffer.from(secret).toString('base64').slice(0, 16),
  ])
    assert.ok(!dom.includes(form), `a form of the secret (${form}) is in the report`);
  assert.deepEqual(requests, [pathToFileURL(file).href]);

  const shot = path.join(ARTIFACTS, 'report.png');
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok((await stat(shot)).size > 20_000, 'the screenshot shows a page');
  await page.close();
  // What the report says is what the hosts show: the failed one put back, the other changed.
  assert.equal(
    await onHost(BAD, 'test -e /srv/fb-report && echo present || echo absent'),
    'absent\n',
  );
  assert.equal(await onHost(GOOD, 'cat /srv/fb-report/done'), 'done\n');
});
