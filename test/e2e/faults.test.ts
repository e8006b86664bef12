// The promises under faults: a controller killed at any point leaves no torn file and a run that
// rolls back; a task that never ends ends at its timeout, on the host too; two runs never
// interleave on one host; a secret shows up nowhere, not even in the host's process list. On this
// file's hosts lab39-lab41 (reset first; HOSTS in helpers.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LAB_DEPLOY_USER, type LabInfo } from '../../src/lab/index.ts';
import type { RunEvent } from '../../src/runner/events.ts';
import {
  assertHealthy,
  fleetbook,
  HOSTS,
  lab,
  onHost,
  ROOT,
  taskEnds,
  type CliResult,
} from './helpers.ts';

const [SWEEP, HANG, TWO] = HOSTS.faults;
let info: LabInfo;
let state: string;

before(async () => {
  info = await lab('faults');
  state = await mkdtemp(path.join(tmpdir(), 'fb-faults-'));
});

after(() => assertHealthy(HOSTS.faults));

const env = (over: Record<string, string>): Record<string, string> => ({
  FLEETBOOK_STATE_DIR: state,
  FLEETBOOK_SECRETS_DIR: path.join(state, 'secrets'),
  FLEETBOOK_TEMPLATES: 'test/fixtures/templates',
  ...over,
});

function run(
  host: string,
  args: readonly string[],
  over: Record<string, string>,
): Promise<CliResult> {
  return fleetbook(
    [
      'run',
      'test/e2e/playbooks/faults.ts',
      '-i',
      info.inventoryPath,
      '--limit',
      host,
      '--json',
      ...args,
    ],
    env(over),
  );
}

/** The CLI started as a user would (plain output), killed with SIGKILL after `ms`; resolves with what it printed. */
function runKilledAfter(host: string, ms: number, over: Record<string, string>): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        'bin/fleetbook.js',
        'run',
        'test/e2e/playbooks/faults.ts',
        '-i',
        info.inventoryPath,
        '--limit',
        host,
      ],
      { cwd: ROOT, env: { ...process.env, ...env(over), NO_COLOR: '1' } },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** The run id a CLI printed first: in its PLAY line, or its first --json event. */
const runIdOf = (out: string): string | undefined =>
  /^PLAY .*, run ([\w-]+)/m.exec(out)?.[1] ??
  /"type":"run-start","runId":"([\w-]+)"/.exec(out)?.[1];

/** A command line of the host's processes matching `re`, read from /proc (minbase has no ps). */
async function processes(host: string, pattern: string): Promise<string> {
  return onHost(
    host,
    `for p in /proc/[0-9]*; do c=$(tr '\\0' ' ' < $p/cmdline 2>/dev/null); case "$c" in *'${pattern}'*) echo "$c";; esac; done | grep -v 'for p in' || true`,
  );
}

/** Wait (up to 10 s) until no fleetbook session runs on the host: it noticed its controller died. */
async function sessionEnded(host: string): Promise<void> {
  let left = await processes(host, 'fleetbook-session');
  for (let i = 0; i < 20 && left !== ''; i++) {
    await new Promise((res) => setTimeout(res, 500));
    left = await processes(host, 'fleetbook-session');
  }
  assert.equal(left, '', `${host}: the session of a dead run still runs`);
}

const FILES = [1, 3, 6, 10].map((mb) => `/srv/fb-faults/f${mb}`);

async function sums(host: string): Promise<string[]> {
  const out = await onHost(
    host,
    `for f in ${FILES.join(' ')}; do sha256sum < $f | cut -c1-64; done`,
  );
  return out.trim().split('\n');
}

/** What the playbook writes for a tag, hashed as the host would. */
function expected(tag: string): string[] {
  return [1, 3, 6, 10].map((mb) => {
    const h = createHash('sha256');
    const n = Math.round((mb * 1024 * 1024) / 64);
    for (let i = 0; i < n; i++)
      h.update(`${tag} ${String(i).padStart(9, '0')} ${'x'.repeat(48)}\n`);
    return h.digest('hex');
  });
}

test('the kill sweep: SIGKILL at 22 points of a run writing 1-10 MB files; every file stays exactly old or new, and the killed run rolls back', async (t) => {
  const converged = await run(SWEEP, [], { FB_MODE: 'files', FB_TAG: 'old' });
  assert.equal(converged.code, 0, converged.stdout + converged.stderr);
  const old = expected('old');
  const fresh = expected('new');
  assert.deepEqual(await sums(SWEEP), old);
  // How long a run that changes every file takes, to spread the kill points over it.
  const t0 = Date.now();
  const full = await runKilledAfter(SWEEP, 600_000, { FB_MODE: 'files', FB_TAG: 'new' });
  const took = Date.now() - t0;
  assert.deepEqual(await sums(SWEEP), fresh, full);
  const back = await fleetbook(['rollback', runIdOf(full) ?? ''], env({}));
  assert.equal(back.code, 0, back.stdout);
  assert.deepEqual(await sums(SWEEP), old);
  const seen = { old: 0, mixed: 0, new: 0 };
  for (let i = 0; i < 22; i++) {
    const out = await runKilledAfter(SWEEP, Math.round((took * (i + 0.5)) / 22), {
      FB_MODE: 'files',
      FB_TAG: 'new',
    });
    const now = await sums(SWEEP);
    now.forEach((s, k) => {
      assert.ok(s === old[k] || s === fresh[k], `kill ${i}: ${FILES[k]} is torn`);
    });
    const news = now.filter((s, k) => s === fresh[k]).length;
    if (news === 0) seen.old++;
    else if (news === now.length) seen.new++;
    else seen.mixed++;
    // The host cleans up once it notices its controller is gone (moments later, as above):
    // wait for the session to end, then nothing of the killed write may remain.
    await sessionEnded(SWEEP);
    assert.equal(
      (await onHost(SWEEP, "find /srv/fb-faults -name '.fleetbook-*' | wc -l")).trim(),
      '0',
      `kill ${i}: a temporary file was left`,
    );
    const id = runIdOf(out);
    if (id !== undefined && news > 0) {
      const rb = await fleetbook(['rollback', id], env({}));
      assert.equal(rb.code, 0, `kill ${i}: rollback of ${id}: ${rb.stdout}${rb.stderr}`);
    }
    assert.deepEqual(await sums(SWEEP), old, `kill ${i}: not back to the old files`);
  }
  t.diagnostic(
    `kill points: ${JSON.stringify(seen)} (files all old / some new / all new when killed)`,
  );
  // The sweep really hit the run in the middle, not only before or after it.
  assert.ok(seen.mixed + seen.new > 0 && seen.old > 0, JSON.stringify(seen));
  const again = await run(SWEEP, [], { FB_MODE: 'files', FB_TAG: 'new' });
  assert.equal(again.code, 0, again.stdout);
  assert.deepEqual(await sums(SWEEP), fresh, 'the next run converges');
});

test('a task that never ends fails at its timeout, its command is killed on the host, and the run rolls back', async () => {
  const t0 = Date.now();
  const r = await run(HANG, [], { FB_MODE: 'hang', FB_TIMEOUT: '3' });
  assert.ok(Date.now() - t0 < 30_000, `took ${Date.now() - t0} ms`);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const [, write, hang] = taskEnds(r, HANG);
  assert.equal(write?.outcome, 'changed');
  assert.equal(hang?.outcome, 'failed');
  assert.match(
    hang?.message ?? '',
    /timed out: the task took longer than 3 s \(its timeoutSeconds\); the command still running was killed/,
  );
  assert.equal(await processes(HANG, 'sleep infinity'), '');
  assert.equal(
    (await onHost(HANG, 'test -e /srv/fb-faults/before-hang && echo there || echo gone')).trim(),
    'gone',
  );
  // The run-wide limit applies to a task that sets none.
  const wide = await run(HANG, ['--task-timeout', '2'], { FB_MODE: 'hang' });
  assert.match(taskEnds(wide, HANG)[2]?.message ?? '', /longer than 2 s \(--task-timeout\)/);
});

test('a controller killed mid-task: the host kills what it ran, frees the lock, and the run can be rolled back', async () => {
  const out = await runKilledAfter(HANG, 4000, { FB_MODE: 'hang', FB_TAG: 'killed' });
  const id = runIdOf(out);
  assert.ok(id !== undefined, out);
  // The host notices within moments that its controller is gone.
  let left = 'sleep infinity';
  for (let i = 0; i < 20 && left !== ''; i++) {
    await new Promise((res) => setTimeout(res, 500));
    left = await processes(HANG, 'sleep infinity');
  }
  assert.equal(left, '', 'the command of a dead run still runs');
  const shown = await fleetbook(['show', id], env({}));
  assert.match(shown.stdout, /did not finish/);
  assert.match(shown.stdout, new RegExp(`${HANG}: running`));
  assert.match(shown.stdout, /create file \/srv\/fb-faults\/before-hang/);
  // The lock went with the session: a run gets the host at once.
  const rb = await fleetbook(['rollback', id, '--lock-wait', '0'], env({}));
  assert.equal(rb.code, 0, rb.stdout + rb.stderr);
  assert.equal(
    (await onHost(HANG, 'test -e /srv/fb-faults/before-hang && echo there || echo gone')).trim(),
    'gone',
  );
});

test('two runs on one host never interleave: the second waits for the first, or refuses naming it', async () => {
  const [first, second] = await Promise.all([
    run(TWO, [], { FB_MODE: 'slow', FB_TAG: 'first' }),
    new Promise<CliResult>((res) =>
      setTimeout(() => void run(TWO, [], { FB_MODE: 'slow', FB_TAG: 'second' }).then(res), 1500),
    ),
  ]);
  assert.equal(first.code, 0, first.stdout);
  assert.equal(second.code, 0, second.stdout);
  const at = (r: CliResult, what: (e: RunEvent) => boolean): number =>
    Date.parse((r.events.find(what) as unknown as { time: string }).time);
  const slowEnd = (e: RunEvent) => e.type === 'task-end' && e.task === 'command a slow step';
  // The second run's 3 s step ran on the host only once the first run had finished.
  const gap = at(second, slowEnd) - at(first, (e) => e.type === 'run-end');
  assert.ok(
    gap >= 2500,
    `the runs overlapped: the second's slow step ended ${gap} ms after the first run`,
  );
  assert.equal((await onHost(TWO, 'cat /srv/fb-faults/slow')).trim(), 'second');
  const [holder, refused] = await Promise.all([
    run(TWO, [], { FB_MODE: 'slow', FB_TAG: 'third' }),
    new Promise<CliResult>((res) =>
      setTimeout(
        () => void run(TWO, ['--lock-wait', '1'], { FB_MODE: 'slow', FB_TAG: 'fourth' }).then(res),
        1000,
      ),
    ),
  ]);
  assert.equal(holder.code, 0);
  assert.equal(refused.code, 4, refused.stdout);
  const [e] = taskEnds(refused, TWO);
  assert.equal(e?.outcome, 'unreachable');
  assert.match(
    e?.message ?? '',
    /the host is locked by another fleetbook run: \S+@\S+ \(run \S+, pid \d+\) since \d{4}-\d\d-\d\dT/,
  );
  assert.equal((await onHost(TWO, 'cat /srv/fb-faults/slow')).trim(), 'third');
});

test('a canary secret appears nowhere: output, --json, --profile, journals, the HTML report, state files, the encrypted store, the host process list', async () => {
  const canary = `CANARY-${Date.now().toString(36)}-q'r/s+t=u&v`;
  await writeFile(path.join(state, 'canary.txt'), canary);
  const stored = await fleetbook(
    ['secret', 'set', 'development', 'canary', '--from-file', path.join(state, 'canary.txt')],
    env({}),
  );
  assert.equal(stored.code, 0, stored.stderr);
  // An unprivileged user on the host watches every process's command line during the runs.
  await onHost(
    TWO,
    `rm -f /tmp/fb-ps; (runuser -u ${LAB_DEPLOY_USER} -- sh -c 'end=$(($(date +%s) + 40)); while [ $(date +%s) -lt $end ]; do cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\\\0" " " >> /tmp/fb-ps; echo >> /tmp/fb-ps; sleep 0.05; done' > /dev/null 2>&1 &)`,
  );
  const outputs: string[] = [];
  for (const args of [['--diff'], ['--json', '--diff'], ['--profile', '--diff', '-v']]) {
    const r = await fleetbook(
      ['run', 'test/e2e/playbooks/faults.ts', '-i', info.inventoryPath, '--limit', TWO, ...args],
      env({ FB_MODE: 'canary' }),
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    outputs.push(r.stdout, r.stderr);
  }
  // The run's HTML report (written under the state directory, scanned below with the journals).
  const last = (await fleetbook(['runs', '-n', '1'], env({}))).stdout.split(/\s/)[0] ?? '';
  const report = await fleetbook(['report', last], env({}));
  assert.equal(report.code, 0, report.stderr);
  const forms = [
    canary,
    JSON.stringify(canary).slice(1, -1),
    encodeURIComponent(canary),
    Buffer.from(canary).toString('base64').slice(0, 16),
    Buffer.from(`deploy:${canary}`).toString('base64').slice(8, 24),
    'CANARY-',
  ];
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const d of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, d.name);
      if (d.isDirectory()) await walk(p);
      else if (p !== path.join(state, 'canary.txt')) files.push(p);
    }
  };
  await walk(state);
  assert.ok(
    files.some((f) => f.includes(`${path.sep}runs${path.sep}`)),
    'journals were scanned',
  );
  assert.ok(
    files.some((f) => f.endsWith(`${path.sep}reports${path.sep}${last}.html`)),
    'the report was scanned',
  );
  // The secrets store is scanned too: it holds only ciphertext and public keys.
  assert.deepEqual(
    files
      .filter((f) => f.startsWith(path.join(state, 'secrets')))
      .map((f) => path.basename(f))
      .sort(),
    ['development.age', 'development.recipients'],
  );
  const texts = [...outputs, ...(await Promise.all(files.map((f) => readFile(f, 'latin1'))))];
  // Wait for the watcher to stop, then read what it saw.
  await new Promise((res) => setTimeout(res, 1000));
  const ps = await onHost(TWO, 'cat /tmp/fb-ps');
  assert.ok(ps.length > 1000, 'the process list was polled');
  texts.push(ps);
  for (const [i, t] of texts.entries())
    for (const f of forms) assert.ok(!t.includes(f), `a form of the canary (${f}) is in text ${i}`);
  assert.match(outputs[0] ?? '', /\*{8}/, 'the canary was in play, masked');
});
