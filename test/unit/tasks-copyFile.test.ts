import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, type FileFact, type Plan } from '../../src/index.ts';
import { copyFile } from '../../tasks/copyFile.ts';
import { absent, answerFrom, dir, file, host, preparePlan } from './fixtures.ts';

async function plan(
  params: Parameters<typeof copyFile>[0],
  files: Record<string, FileFact> = {},
  accounts: string[] = [],
): Promise<Plan> {
  const otherwise = (p: string) => (p === '/etc/app' ? dir(p) : absent(p));
  return preparePlan(
    copyFile(params),
    answerFrom({ files, otherwise, users: accounts, groups: accounts }),
  );
}

test('exactly one of src and content, said clearly', () => {
  assert.throws(
    () => copyFile({ dest: '/etc/app/x', src: 'a', content: 'b' }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message === 'content: give only one of src or content, not src and content' &&
      e.describe().startsWith('task copyFile "/etc/app/x": '),
  );
  assert.throws(() => copyFile({ dest: '/etc/app/x' }), /src: give src or content; none was given/);
});

test('params are checked when the task is built', () => {
  assert.throws(
    // @ts-expect-error a misspelled parameter must not compile (and fails validation at run time)
    () => copyFile({ dest: '/etc/app/x', content: 'a', owner: 'root', gruop: 'root' }),
    /gruop: unknown field \(did you mean "group"\?\)/,
  );
  assert.throws(
    // @ts-expect-error sensitive is a boolean
    () => copyFile({ dest: '/etc/app/x', content: 'a', sensitive: 'yes' }),
    /sensitive: expected value that must be boolean, got "yes"/,
  );
  assert.throws(
    () => copyFile({ dest: '/etc/app/x', content: 'a', validate: 'true' }),
    /validate: "true" must contain %s/,
  );
});

test('inline content -> create with mode, owner, validate', async () => {
  const p = await plan(
    {
      dest: '/etc/app/x.conf',
      content: 'a=1\n',
      mode: '0640',
      owner: 'app',
      group: 'app',
      validate: 'app-check %s',
    },
    {},
    ['app'],
  );
  assert.equal(p.status, 'change');
  if (p.status !== 'change') return;
  const c = p.changes[0];
  assert.equal(c?.summary, 'create file /etc/app/x.conf (0640 app:app)');
  assert.deepEqual(c?.steps, [
    {
      op: 'write',
      path: '/etc/app/x.conf',
      content: Buffer.from('a=1\n'),
      mode: '0640',
      owner: 'app',
      group: 'app',
      validate: 'app-check %s',
    },
  ]);
});

test('src is read on the controller in prepare, bytes unchanged', async () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'fb-copy-'));
  try {
    const bytes = Buffer.from([0x00, 0xff, 0x10, 0x0a]);
    writeFileSync(path.join(tmp, 'blob.bin'), bytes);
    const task = copyFile({ dest: '/etc/app/blob.bin', src: path.join(tmp, 'blob.bin') });
    assert.deepEqual(await task.prepare(host), { content: bytes });
    const p = await plan({ dest: '/etc/app/blob.bin', src: path.join(tmp, 'blob.bin') });
    assert.equal(
      p.status === 'change' &&
        p.changes[0]?.diff[0]?.kind === 'file' &&
        p.changes[0].diff[0].unified.includes('Binary content differs (0 -> 4 bytes)'),
      true,
    );
    const missing = copyFile({ dest: '/etc/app/x', src: path.join(tmp, 'nope.txt') });
    await assert.rejects(
      missing.prepare(host),
      (e: unknown) =>
        e instanceof ConfigError &&
        /src: cannot read local file .*nope\.txt \(no such file;/.test(e.message),
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('same content and attributes -> ok', async () => {
  assert.deepEqual(
    await plan(
      { dest: '/etc/app/x.conf', content: 'a=1\n' },
      { '/etc/app/x.conf': file('/etc/app/x.conf', 'a=1\n') },
    ),
    { status: 'ok' },
  );
});

test('owner missing -> fail', async () => {
  const p = await plan({ dest: '/etc/app/x.conf', content: 'a=1\n', owner: 'app' });
  assert.deepEqual(p, {
    status: 'fail',
    message:
      '/etc/app/x.conf is to be owned by app:root, but user "app" does not exist on this host (create it in an earlier task, e.g. ensureUser)',
  });
});
