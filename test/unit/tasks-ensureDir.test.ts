import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FileFact, Plan } from '../../src/index.ts';
import { ensureDir } from '../../tasks/ensureDir.ts';
import { absent, answerFrom, dir, planFrom } from './fixtures.ts';

function plan(
  params: Parameters<typeof ensureDir>[0],
  accounts: string[],
  existing: Record<string, FileFact> = {},
): Plan {
  const otherwise = (p: string) => (p === params.path ? absent(p) : dir(p));
  return planFrom(
    ensureDir(params),
    undefined,
    answerFrom({ files: existing, otherwise, users: accounts, groups: accounts }),
  );
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
