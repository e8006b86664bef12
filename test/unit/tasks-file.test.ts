// The `file` task's plan, one case per row: the params, what is at the path, and the plan's
// outcome, change summaries, steps and undo steps as text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FileFact, Plan, Step } from '../../src/index.ts';
import { file as fileTask, type FileParams } from '../../tasks/file.ts';
import { absent, answerFrom, changeRow, dir, file, planFrom, planRows } from './fixtures.ts';

const P = '/etc/nginx/sites-enabled/default';
const link = (target: string): FileFact => ({
  ...absent(P),
  exists: true,
  type: 'symlink',
  mode: '0777',
  owner: 'root',
  group: 'root',
  linkTarget: target,
});

const T = '/srv/app/releases/7/app.conf';
/** The hard link's target: a file with this inode. */
const target = (inode: string | undefined): FileFact =>
  file(T, 'listen 80;\n', inode === undefined ? {} : { inode });

function plan(params: FileParams, at: FileFact, accounts: string[] = [], other?: FileFact): Plan {
  return planFrom(
    fileTask(params),
    undefined,
    answerFrom({
      files: { [params.path]: at, ...(other === undefined ? {} : { [other.path]: other }) },
      otherwise: (p) => dir(p),
      users: accounts,
      groups: accounts,
    }),
  );
}

function stepText(s: Step): string {
  if (s.op === 'run') return s.describe;
  return s.op === 'write' ? `write ${s.path} ${s.mode} ${s.owner}:${s.group}` : `remove ${s.path}`;
}

interface Row {
  readonly what: string;
  readonly params: FileParams;
  readonly at: FileFact;
  /** Another path's fact (a hard link's target). */
  readonly other?: FileFact;
  /** ok, fail: MESSAGE, or the changes: `summary | steps | undo`. */
  readonly want: string | readonly string[];
}

const ROWS: readonly Row[] = [
  {
    what: 'absent, nothing there',
    params: { path: P, state: 'absent' },
    at: absent(P),
    want: 'ok',
  },
  {
    what: 'absent, a file there: moved to the backups',
    params: { path: P, state: 'absent' },
    at: file(P, 'server {}\n'),
    want: [
      `remove file ${P} (0644 root:root, 10 bytes) (kept in the run's backups) | remove ${P} | `,
    ],
  },
  {
    what: 'absent, a tree there',
    params: { path: '/srv/old', state: 'absent' },
    at: dir('/srv/old'),
    want: [
      "remove directory /srv/old and everything in it (kept in the run's backups) | remove /srv/old | ",
    ],
  },
  {
    what: 'link already right',
    params: { path: P, state: 'link', target: '../sites-available/app' },
    at: link('../sites-available/app'),
    want: 'ok',
  },
  {
    what: 'link missing: made; undo removes it while it is still ours',
    params: { path: P, state: 'link', target: '/etc/nginx/sites-available/app' },
    at: absent(P),
    want: [
      `create symlink ${P} -> /etc/nginx/sites-available/app | ln -s /etc/nginx/sites-available/app ${P} | rm ${P}`,
    ],
  },
  {
    what: 'link pointing elsewhere: repointed; undo points it back',
    params: { path: P, state: 'link', target: 'app' },
    at: link('default'),
    want: [`repoint symlink ${P} -> app | ln -s app ${P} | ln -s default ${P}`],
  },
  {
    what: 'a file in the way of a link: refused without force',
    params: { path: P, state: 'link', target: 'app' },
    at: file(P, 'x'),
    want: `fail: file ${P} (0644 root:root, 1 bytes) is in the way of the symlink; give force: true to replace it (it is kept for undo)`,
  },
  {
    what: 'a file in the way of a link, force: kept, then the link (two changes, undone in reverse)',
    params: { path: P, state: 'link', target: 'app', force: true },
    at: file(P, 'x'),
    want: [
      `remove file ${P} (0644 root:root, 1 bytes) (kept in the run's backups) | remove ${P} | `,
      `create symlink ${P} -> app | ln -s app ${P} | rm ${P}`,
    ],
  },
  {
    what: 'hard link already there (same inode)',
    params: { path: P, state: 'hard', target: T },
    at: file(P, 'listen 80;\n', { inode: '2049:77' }),
    other: target('2049:77'),
    want: 'ok',
  },
  {
    what: 'hard link missing: made; undo removes it while it is still that file',
    params: { path: P, state: 'hard', target: T },
    at: absent(P),
    other: target('2049:77'),
    want: [`create hard link ${P} to ${T} | ln ${T} ${P} | rm ${P}`],
  },
  {
    what: 'another file at the hard link path: refused without force',
    params: { path: P, state: 'hard', target: T },
    at: file(P, 'x', { inode: '2049:5' }),
    other: target('2049:77'),
    want: `fail: file ${P} (0644 root:root, 1 bytes) is in the way of the hard link (it is another file); give force: true to replace it (it is kept for undo)`,
  },
  {
    what: 'another file at the hard link path, force: kept, then linked',
    params: { path: P, state: 'hard', target: T, force: true },
    at: file(P, 'x', { inode: '2049:5' }),
    other: target('2049:77'),
    want: [
      `remove file ${P} (0644 root:root, 1 bytes) (kept in the run's backups) | remove ${P} | `,
      `create hard link ${P} to ${T} | ln ${T} ${P} | rm ${P}`,
    ],
  },
  {
    what: 'hard link to a target an earlier task would write (check mode): unknown if a file is there',
    params: { path: P, state: 'hard', target: T },
    at: file(P, 'x', { inode: '2049:5' }),
    other: target(undefined),
    want: `unknown: ${T} would be written by an earlier task: whether ${P} is the same file cannot be known before`,
  },
  {
    what: 'hard link to a missing target',
    params: { path: P, state: 'hard', target: T },
    at: absent(P),
    other: absent(T),
    want: `fail: ${T} does not exist; a hard link needs an existing file`,
  },
  {
    what: 'hard link to a directory',
    params: { path: P, state: 'hard', target: T },
    at: absent(P),
    other: dir(T),
    want: `fail: directory ${T} and everything in it is not a regular file; a hard link needs one`,
  },
  {
    what: 'touch a missing file: written empty (undo by the runner)',
    params: { path: '/var/log/app.log', state: 'touch', mode: '0640', owner: 'app', group: 'adm' },
    at: absent('/var/log/app.log'),
    want: [
      'create empty file /var/log/app.log (0640 app:adm) | write /var/log/app.log 0640 app:adm | ',
    ],
  },
  {
    what: 'touch an existing file: its bytes and times are left alone',
    params: { path: '/var/log/app.log', state: 'touch' },
    at: file('/var/log/app.log', 'lines\n', { mode: '0600' }),
    want: 'ok',
  },
  {
    what: 'touch an existing file with a mode: only the mode changes',
    params: { path: '/var/log/app.log', state: 'touch', mode: '0640' },
    at: file('/var/log/app.log', 'lines\n', { mode: '0600' }),
    want: [
      'set mode of file /var/log/app.log | chmod 0640 /var/log/app.log | chmod 0600 /var/log/app.log',
    ],
  },
  {
    what: 'touch where a directory is',
    params: { path: '/var/log/app.log', state: 'touch' },
    at: dir('/var/log/app.log'),
    want: 'fail: directory /var/log/app.log and everything in it is not a regular file',
  },
];

for (const r of ROWS)
  test(`file: ${r.what}`, (t) => {
    const got = planRows(plan(r.params, r.at, ['app', 'adm'], r.other), (c) =>
      changeRow(c, stepText),
    );
    t.diagnostic(JSON.stringify(got));
    assert.deepEqual(got, r.want);
  });

test('file: params are checked as data (the rules) before any host', () => {
  assert.throws(
    () => fileTask({ path: P, state: 'link' }),
    /target: required when state is one of "link", "hard"/,
  );
  assert.throws(
    () => fileTask({ path: P, state: 'absent', mode: '0644' }),
    /mode: not allowed when state is one of "absent", "link"/,
  );
  assert.throws(
    () => fileTask({ path: P, state: 'touch', target: '/x' }),
    /target: not allowed when state is one of "absent", "touch", "directory"/,
  );
  assert.throws(
    () => fileTask({ path: P, state: 'hard', target: 'app.conf' }),
    /target: a hard link needs the absolute path of an existing file/,
  );
  assert.throws(
    () => fileTask({ path: P, state: 'hard', target: T, owner: 'app' }),
    /owner: not allowed when state is one of "absent", "link", "hard"/,
  );
});
