// gitCheckout: its fact's parser, from what a lab host printed (test/fixtures/custom-facts), and
// its plan, one case per row: the checkout at dest, and the changes as `summary | steps | undo`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Plan } from '../../src/index.ts';
import { gitCheckout, type GitCheckoutParams } from '../../tasks/gitCheckout.ts';
import { gitState, type GitDest, type GitRemote, type GitState } from '../../tasks/git-state.ts';
import { absent, dir, group, planFrom, planRows, user } from './fixtures.ts';

test('gitState parses what a lab host printed (test/fixtures/custom-facts)', () => {
  const out = readFileSync('test/fixtures/custom-facts/gitState.txt', 'utf8');
  const V1 = { repo: '/tmp/fbrepo', version: 'v1', dest: '/tmp/fbco' };
  const qs = [
    V1,
    { repo: '/tmp/fbrepo', version: 'main', dest: '/tmp/fbnone' },
    { repo: '/tmp/fbrepo', version: 'nosuch', dest: '/etc' },
    { repo: '/tmp/nosuchrepo', version: 'main', dest: '/tmp/fbco' },
  ];
  const got = gitState(V1).def.parse(out, qs);
  const line = (re: RegExp) => re.exec(out)?.[1] ?? '';
  const head = line(/^h (\w+)$/m);
  const clone: GitDest = {
    state: 'repo',
    head,
    branch: 'main',
    origin: '/tmp/fbrepo',
    dirty: true,
  };
  assert.deepEqual(got, [
    // The peeled tag: the commit, not the tag object.
    {
      git: true,
      remote: { sha: line(/^r (\w+)\trefs\/tags\/v1\^\{\}$/m), kind: 'tag' },
      dest: clone,
    },
    { git: true, remote: { sha: head, kind: 'branch' }, dest: { state: 'absent' } },
    {
      git: true,
      remote: { error: 'the remote has no branch or tag nosuch' },
      dest: { state: 'notRepo' },
    },
    {
      git: true,
      remote: {
        error: "git ls-remote: fatal: '/tmp/nosuchrepo' does not appear to be a git repository",
      },
      dest: clone,
    },
  ]);
});

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const P: GitCheckoutParams = {
  repo: 'https://git.example.org/app.git',
  version: 'main',
  dest: '/srv/app',
};
const repo = (over: Partial<Extract<GitDest, { state: 'repo' }>> = {}): GitDest => ({
  state: 'repo',
  head: A,
  branch: 'main',
  origin: P.repo,
  dirty: false,
  ...over,
});
const onMain: GitRemote = { sha: A, kind: 'branch' };

function plan(params: GitCheckoutParams, remote: GitRemote, dest: GitDest, git = true): Plan {
  const state: GitState = { git, remote, dest };
  return planFrom(gitCheckout(params), undefined, (q) => {
    if (q.kind === 'custom') return state as never;
    if (q.kind === 'user') return user(q.name);
    if (q.kind === 'group') return group(q.name);
    if (q.kind === 'file')
      return q.path === '/srv'
        ? dir('/srv')
        : dest.state === 'absent'
          ? absent(q.path)
          : dir(q.path);
    return undefined;
  });
}

const ROWS: readonly [string, GitCheckoutParams, GitRemote, GitDest, string | readonly string[]][] =
  [
    ['at the branch head: ok', P, onMain, repo(), 'ok'],
    [
      'no checkout: cloned beside dest, then renamed into place',
      P,
      onMain,
      { state: 'absent' },
      [
        `clone ${P.repo} at main (${A}) into /srv/app | git clone ${P.repo} /srv/app | rm -r /srv/app`,
      ],
    ],
    [
      'the branch moved on the remote: fetched and checked out, undone by checking out the old commit',
      P,
      { sha: B, kind: 'branch' },
      repo(),
      [
        `check out main (${B}) in /srv/app | git checkout main in /srv/app | git checkout main (${A}) in /srv/app`,
      ],
    ],
    [
      'a pinned commit, detached',
      { ...P, version: B },
      { sha: B, kind: 'commit' },
      repo({ head: B, branch: '' }),
      'ok',
    ],
    [
      'the right commit, owned by someone else: only chown',
      { ...P, owner: 'www-data', group: 'www-data' },
      onMain,
      repo(),
      [
        'set owner of /srv/app and everything in it | chown -R www-data:www-data /srv/app | chown -R root:root /srv/app',
      ],
    ],
    [
      'local changes are refused',
      P,
      { sha: B, kind: 'branch' },
      repo({ dirty: true }),
      'fail: /srv/app has local changes to tracked files (git status): commit or discard them first',
    ],
    [
      'another repository at dest',
      P,
      onMain,
      repo({ origin: 'https://elsewhere/x.git' }),
      `fail: /srv/app is a checkout of https://elsewhere/x.git, not ${P.repo}`,
    ],
    [
      'not a checkout',
      P,
      onMain,
      { state: 'notRepo' },
      'fail: /srv/app exists and is not a git checkout',
    ],
    [
      'the remote cannot say',
      P,
      { error: 'the remote has no branch or tag main' },
      { state: 'absent' },
      `fail: ${P.repo}: the remote has no branch or tag main`,
    ],
  ];

for (const [what, params, remote, dest, want] of ROWS)
  test(`gitCheckout: ${what}`, (t) => {
    const got = planRows(plan(params, remote, dest));
    t.diagnostic(JSON.stringify(got));
    assert.deepEqual(got, want);
  });

test('gitCheckout: no git on the host says how to get it', () => {
  assert.deepEqual(
    planRows(plan(P, { error: 'git is not on this host' }, { state: 'absent' }, false)),
    'fail: git is not on this host: install it first (aptInstall git)',
  );
});

test('gitCheckout: params are checked before any host', () => {
  assert.throws(
    () => gitCheckout({ ...P, repo: 'git.example.org/app' }),
    /repo: expected a git URL/,
  );
  assert.throws(
    () => gitCheckout({ ...P, version: '--upload-pack=x' }),
    /version: expected a branch, a tag/,
  );
  assert.throws(() => gitCheckout({ ...P, depth: 0 }), /depth/);
});
