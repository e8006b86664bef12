import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Fact, FactQuery, FileFact, HostView, Plan } from '../../src/index.ts';
import { ensureDir } from '../../tasks/ensureDir.ts';

const host: HostView = {
  name: 'web1',
  address: '127.0.1.1',
  environment: 'lab',
  secrets: {},
  groups: [],
  vars: {},
};
const dir = (p: string): FileFact => ({
  path: p,
  exists: true,
  type: 'directory',
  mode: '0755',
  owner: 'root',
  group: 'root',
  size: 4096,
  sha256: null,
  mtime: 1,
});
const absent = (p: string): FileFact => ({
  path: p,
  exists: false,
  type: null,
  mode: null,
  owner: null,
  group: null,
  size: null,
  sha256: null,
  mtime: null,
});

function plan(
  params: Parameters<typeof ensureDir>[0],
  accounts: string[],
  existing: Record<string, FileFact> = {},
): Plan {
  const task = ensureDir(params);
  const facts: Record<string, Fact> = {};
  for (const [key, q] of Object.entries(task.probe(undefined) as Record<string, FactQuery>)) {
    if (q.kind === 'file')
      facts[key] = existing[q.path] ?? (q.path === params.path ? absent(q.path) : dir(q.path));
    else if (q.kind === 'user')
      facts[key] = {
        name: q.name,
        exists: accounts.includes(q.name),
        uid: 1,
        gid: 1,
        home: '/',
        shell: '/bin/sh',
      };
    else if (q.kind === 'group')
      facts[key] = { name: q.name, exists: accounts.includes(q.name), gid: 1 };
    else assert.fail(`unexpected query ${q.kind}`);
  }
  return task.plan(facts, undefined, { host, notified: false });
}

test('owner that does not exist -> fail, before planning any mkdir', () => {
  assert.deepEqual(plan({ path: '/srv/app', owner: 'app', group: 'app' }, []), {
    status: 'fail',
    message:
      '/srv/app is to be owned by app:app, but user "app" and group "app" do not exist on this host (create them in an earlier task, e.g. ensureUser)',
  });
});

test('owner created by an earlier task (simulated user/group facts) -> mkdir planned', () => {
  const p = plan({ path: '/srv/app', owner: 'app', group: 'app', mode: '0750' }, ['app']);
  assert.equal(p.status, 'change');
  assert.equal(
    p.status === 'change' && p.changes[0]?.summary,
    'create directory /srv/app (0750 app:app)',
  );
});

test('root-owned directories need no account facts', () => {
  const queries = Object.values(ensureDir({ path: '/srv/app' }).probe(undefined));
  assert.deepEqual(
    queries.map((q) => q.kind),
    ['file', 'file'],
  );
  assert.deepEqual(plan({ path: '/srv/app' }, [], { '/srv/app': dir('/srv/app') }), {
    status: 'ok',
  });
});
