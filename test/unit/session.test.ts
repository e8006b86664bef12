import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '../../src/core/probe-script.ts';
import { writeScript } from '../../src/runner/host-scripts.ts';
import { connectLocal } from '../../src/transport/local.ts';
import { HostSession } from '../../src/runner/session.ts';

// The host session's shell (session-script.ts) under the controller's own /bin/sh (dash on
// Debian, as on the hosts), through the local transport.

const opened: HostSession[] = [];
const open = async (lock: 'none' | 'exclusive' = 'none', wait = 0): Promise<HostSession> => {
  const s = await HostSession.open(connectLocal(), 'self', {
    become: false,
    lock,
    lockWaitSeconds: wait,
    who: 'unit test',
  });
  opened.push(s);
  return s;
};
// A failed assertion must not leave a session (a child process) keeping the test file alive.
after(() => Promise.all(opened.map((s) => s.close().catch(() => undefined))));

/** Whether a process whose command line contains `marker` is running. */
function running(marker: string): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn('/bin/sh', [
      '-c',
      `for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done | grep -v grep | grep -q -- '${marker}'`,
    ]);
    p.on('close', (code) => {
      resolve(code === 0);
    });
  });
}

test('scripts run one after another with their stdin; output and exit codes come back exactly', async () => {
  const s = await open();
  const [a, b, c] = await Promise.all([
    s.run('printf "one\\n"; echo two >&2; exit 3'),
    s.run('cat; printf "%s" "$(wc -c < /dev/stdin)"', Buffer.from('payload\n')),
    s.run("printf '@@fbs done 0 0 0\\n'"),
  ]);
  assert.deepEqual(a, { code: 3, stdout: 'one\n', stderr: 'two\n' });
  assert.equal(b?.stdout, 'payload\n8');
  // Output that looks like the protocol is only output: the sizes frame it.
  assert.equal(c?.stdout, '@@fbs done 0 0 0\n');
  await s.close();
});

test('a daemon a script leaves behind writing to its output does not corrupt what follows', async () => {
  const s = await open();
  // Like dma's background delivery: a child keeps the script's stdout and stderr and writes later.
  const first = await s.run(
    '(sleep 0.2; i=0; while [ $i -lt 20000 ]; do echo late; echo late >&2; i=$((i+1)); done) & echo first',
  );
  assert.deepEqual([first.code, first.stdout], [0, 'first\n']);
  await new Promise((r) => setTimeout(r, 200));
  for (let n = 0; n < 50; n++) {
    const r = await s.run(`echo "next ${String(n)}"`, Buffer.alloc(0), Date.now() + 10_000);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, `next ${String(n)}\n`, '']);
  }
});

test('a script past its deadline is killed with its children, and the session goes on', async () => {
  const s = await open();
  const marker = `sleep 31${Date.now() % 1000}`;
  const t0 = Date.now();
  const r = await s.run(`${marker} & wait`, Buffer.alloc(0), Date.now() + 500);
  assert.equal(r.killed, true);
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(await running(marker), false, 'the child of the killed script still runs');
  assert.equal((await s.run('echo still here')).stdout, 'still here\n');
  await s.close();
});

test('a controller that goes away takes its running script with it', async () => {
  const s = await open();
  const marker = `sleep 32${Date.now() % 1000}`;
  void s.run(marker).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await running(marker), true);
  // Its stdin ends, as when the connection drops or the controller is killed.
  await s.close();
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await running(marker), false);
});

test('a host held by another run: the session waits, then refuses naming the holder', async () => {
  const holder = await open('exclusive');
  await holder.run('true');
  const other = await open('exclusive', 1);
  await assert.rejects(
    other.run('echo never'),
    /the host is locked by another fleetbook run: unit test since \d{4}-/,
  );
  await holder.close();
  const after = await open('exclusive', 5);
  assert.equal((await after.run('echo mine')).stdout, 'mine\n');
  await after.close();
});

test('a write killed outright (it did not end on TERM) leaves no private directory behind', async () => {
  const s = await open();
  const dir = mkdtempSync(join(tmpdir(), 'fb-private-'));
  const content = Buffer.from('new\n');
  const group = spawnSync('id', ['-gn'], { encoding: 'utf8' }).stdout.trim();
  const step = {
    op: 'write',
    path: join(dir, 'app.conf'),
    content,
    mode: '0644',
    owner: userInfo().username,
    group,
    // ignores TERM, so the session's KILL (2 s after its TERM) ends it: no trap of its runs
    validate: "trap '' TERM; sleep 4; : %s",
  } as const;
  const script = writeScript(step, content.length, sha256(content), 'unit/x');
  const r = await s.run(script.text, content, Date.now() + 500);
  assert.equal(r.killed, true);
  assert.deepEqual(readdirSync(dir), [], 'the killed write left its private directory');
  await s.close();
});
