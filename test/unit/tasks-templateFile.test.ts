import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  ConfigError,
  sha256,
  type Change,
  type Fact,
  type FactQuery,
  type Plan,
  type PlanContext,
} from '../../src/index.ts';
import { templateFile } from '../../tasks/templateFile.ts';
import {
  absent,
  answerAll,
  answerFrom,
  dir,
  file,
  hostView,
  preparePlan,
  templatesDir as fixtures,
  type Answer,
  type FakeHost,
} from './fixtures.ts';

process.env['FLEETBOOK_TEMPLATES'] = fixtures;

const host = hostView({
  environment: 'staging',
  groups: ['web'],
  vars: { domain: 'shop.example', upstream: 'http://127.0.0.1:8000/?a=1&b=2', dbHost: 'db1' },
});
const ctx: PlanContext = { host, notified: false };
const DEST = '/etc/nginx/sites-enabled/shop.conf';
const RENDERED =
  '# managed by fleetbook for web1 (staging)\nserver_name shop.example;\nupstream http://127.0.0.1:8000/?a=1&b=2;\n';

type HostState = Pick<FakeHost, 'files' | 'users' | 'groups'>;
/** The host: the given files and accounts; DEST's directory exists, nothing else does. */
const onHost = (state: HostState): Answer =>
  answerFrom({ ...state, otherwise: (p) => (p === path.dirname(DEST) ? dir(p) : absent(p)) });

/** Answer every query the task's probe names from a small description of the host. */
function factsFor(
  queries: Readonly<Record<string, FactQuery>>,
  state: HostState,
): Record<string, Fact> {
  return answerAll(queries, onHost(state));
}

async function plan(
  params: Parameters<typeof templateFile>[0],
  state: HostState = {},
): Promise<Plan> {
  return preparePlan(templateFile(params), onHost(state), ctx);
}

function onlyChange(p: Plan): Change {
  assert.equal(p.status, 'change', JSON.stringify(p));
  if (p.status !== 'change') throw new Error('unreachable');
  assert.equal(p.changes.length, 1);
  return p.changes[0] as Change;
}

test('params are checked when the task is built', () => {
  assert.throws(
    // @ts-expect-error a misspelled parameter must not compile (and fails validation at run time)
    () => templateFile({ src: 'site.conf.ejs', dset: DEST }),
    /dset: unknown field \(did you mean "dest"\?\)/,
  );
  assert.throws(
    // @ts-expect-error mode is a string such as "0644"
    () => templateFile({ src: 'site.conf.ejs', dest: DEST, mode: 644 }),
    /mode: expected value that must be string, got 644/,
  );
  assert.throws(
    () => templateFile({ src: 'site.conf.ejs', dest: 'etc/x' }),
    /dest: expected an absolute path/,
  );
  assert.throws(
    () => templateFile({ src: 'site.conf.ejs', dest: DEST, validate: 'nginx -t' }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.source.field === 'validate' &&
      /must contain %s/.test(err.message),
  );
});

test('renders in prepare (controller side): host vars, task vars over them, no HTML escaping', async () => {
  const task = templateFile({
    src: 'site.conf.ejs',
    dest: DEST,
    vars: { domain: 'override.example' },
  });
  const prepared = (await task.prepare(host)) as { content: string };
  assert.equal(prepared.content, RENDERED.replace('shop.example', 'override.example'));
  assert.match(prepared.content, /\?a=1&b=2;/);
});

test('a template error stops the run in prepare, naming file, line and task', async () => {
  const task = templateFile({ src: 'undefined-var.ejs', dest: '/etc/x.conf' });
  await assert.rejects(task.prepare({ ...host, vars: {} }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    const rel = path.relative(process.cwd(), path.join(fixtures, 'undefined-var.ejs'));
    assert.equal(err.message, `${rel} line 3: "domain" is not defined`);
    assert.equal(
      err.describe(),
      `task "templateFile /etc/x.conf": ${rel} line 3: "domain" is not defined`,
    );
    return true;
  });
});

test('absent file -> create it: unified diff, one write step, file effect', async () => {
  const c = onlyChange(
    await plan(
      {
        src: 'site.conf.ejs',
        dest: DEST,
        mode: '640',
        owner: 'www-data',
        group: 'www-data',
        validate: 'nginx -t -c %s',
      },
      { users: ['www-data'], groups: ['www-data'] },
    ),
  );
  assert.equal(c.summary, `create file ${DEST} (0640 www-data:www-data)`);
  const d = c.diff[0];
  assert.equal(d?.kind, 'file');
  if (d?.kind === 'file') {
    assert.match(d.unified, /^--- \/dev\/null/);
    assert.match(d.unified, /\+server_name shop\.example;/);
    assert.match(d.unified, /\+upstream http:\/\/127\.0\.0\.1:8000\/\?a=1&b=2;/);
  }
  assert.deepEqual(c.steps, [
    {
      op: 'write',
      path: DEST,
      content: Buffer.from(RENDERED),
      mode: '0640',
      owner: 'www-data',
      group: 'www-data',
      validate: 'nginx -t -c %s',
    },
  ]);
  assert.deepEqual(c.undo, [], 'the runner keeps the old file for a write step');
  const e = c.effects[0];
  assert.equal(e?.kind === 'file' && e.fact.sha256, sha256(RENDERED));
});

test('same content and attributes -> ok (idempotent)', async () => {
  assert.deepEqual(
    await plan({ src: 'site.conf.ejs', dest: DEST }, { files: { [DEST]: file(DEST, RENDERED) } }),
    { status: 'ok' },
  );
});

test('changed content -> update with a diff of the changed line only', async () => {
  const c = onlyChange(
    await plan(
      { src: 'site.conf.ejs', dest: DEST },
      { files: { [DEST]: file(DEST, RENDERED.replace('shop.example', 'old.example')) } },
    ),
  );
  assert.equal(c.summary, `update file ${DEST} (0644 root:root)`);
  const d = c.diff[0];
  assert.ok(d?.kind === 'file');
  assert.match(d.unified, /^-server_name old\.example;$/m);
  assert.match(d.unified, /^\+server_name shop\.example;$/m);
  assert.doesNotMatch(d.unified, /^[-+]upstream/m);
});

test('same content, other mode -> attribute change only', async () => {
  const c = onlyChange(
    await plan(
      { src: 'site.conf.ejs', dest: DEST, mode: '0600' },
      { files: { [DEST]: file(DEST, RENDERED) } },
    ),
  );
  assert.deepEqual(c.diff, [
    { kind: 'attr', subject: DEST, field: 'mode', before: '0644', after: '0600' },
  ]);
  assert.deepEqual(
    c.steps.map((s) => s.op === 'run' && s.script.text),
    [`chmod -- 0600 ${DEST}`],
  );
});

test('owner or group that does not exist (and no earlier task creates) -> fail naming them', async () => {
  const p = await plan(
    { src: 'site.conf.ejs', dest: DEST, owner: 'app', group: 'app' },
    { users: [], groups: [] },
  );
  assert.deepEqual(p, {
    status: 'fail',
    message: `${DEST} is to be owned by app:app, but user "app" and group "app" do not exist on this host (create them in an earlier task, e.g. ensureUser)`,
  });
  const onlyGroup = await plan(
    { src: 'site.conf.ejs', dest: DEST, owner: 'app', group: 'app' },
    { users: ['app'], groups: [] },
  );
  assert.equal(
    onlyGroup.status === 'fail' && onlyGroup.message.includes('but group "app" does not exist'),
    true,
  );
  // An earlier ensureUser's effects make the account exist (the runner overlays them in check mode).
  assert.equal(
    (
      await plan(
        { src: 'site.conf.ejs', dest: DEST, owner: 'app', group: 'app' },
        { users: ['app'], groups: ['app'] },
      )
    ).status,
    'change',
  );
});

test('root needs no account lookup', () => {
  const queries = Object.values(
    templateFile({ src: 'site.conf.ejs', dest: DEST }).probe({ content: '' }),
  );
  assert.deepEqual(queries.map((q) => q.kind).sort(), ['file', 'file']);
});

test('missing parent directory -> unknown (an earlier package install may create it; a real run fails)', async () => {
  const p = await plan(
    { src: 'site.conf.ejs', dest: DEST },
    { files: { [path.dirname(DEST)]: absent(path.dirname(DEST)) } },
  );
  assert.deepEqual(p, {
    status: 'unknown',
    reason: `cannot write ${DEST} yet: directory /etc/nginx/sites-enabled does not exist (an earlier task such as a package install may create it; otherwise create it with ensureDir)`,
  });
});

test('destination is a directory -> fail, not replaced', async () => {
  const p = await plan({ src: 'site.conf.ejs', dest: DEST }, { files: { [DEST]: dir(DEST) } });
  assert.equal(p.status, 'fail');
  assert.match(p.status === 'fail' ? p.message : '', /is a directory, not a regular file/);
});

test('sensitive: the secret never appears outside the write step content', async () => {
  const CANARY = 'canary-Zq9!x7';
  const OLD = 'old-canary-Kp2';
  const dest = '/etc/nginx/sites-enabled/app.env';
  const task = templateFile({
    src: 'secret.env.ejs',
    dest,
    vars: { dbPassword: CANARY },
    sensitive: true,
    mode: '0600',
  });
  const prepared = await task.prepare(host);
  const queries = task.probe(prepared);
  const target = Object.values(queries).find((q) => q.kind === 'file' && q.path === dest);
  assert.equal(
    target?.kind === 'file' && target.read,
    'lineHashes',
    'the live bytes of a sensitive file never leave the host',
  );
  const live = file(dest, `DB_HOST=db1\nDB_PASSWORD=${OLD}\n`, { mode: '0600' }, 'lineHashes');
  const p = task.plan(factsFor(queries, { files: { [dest]: live } }), prepared, ctx);
  const c = onlyChange(p);
  const write = c.steps[0];
  assert.ok(write?.op === 'write');
  assert.match(write.content.toString(), new RegExp(`DB_PASSWORD=${CANARY}`));
  // Everything else, with Buffers shown as text so bytes cannot hide the secret.
  const rest = JSON.stringify(
    {
      ...p,
      changes: [{ ...c, steps: [{ ...write, content: '(write content)' }] }],
      title: task.title,
    },
    (_k, v: unknown) =>
      v !== null && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer'
        ? Buffer.from((v as { data: number[] }).data).toString()
        : v,
  );
  assert.doesNotMatch(rest, new RegExp(CANARY));
  assert.doesNotMatch(rest, new RegExp(OLD));
  const d = c.diff[0];
  assert.ok(d?.kind === 'file');
  assert.match(d.unified, /^\+DB_PASSWORD=\*{8}$/m);
  assert.match(d.unified, /^-\(line 2, value hidden\)$/m);
  assert.match(d.unified, / \.\.\. 1 unchanged line/);
});
