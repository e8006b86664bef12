// unarchive's plan, one case per row: what dest and its record hold, and the changes as
// `summary | steps | undo`, or the diff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, type FileFact, type Plan } from '../../src/index.ts';
import { unarchive, RECORD, type UnarchiveParams } from '../../tasks/unarchive.ts';
import { absent, answerFrom, dir, file, host, planRows, preparePlan } from './fixtures.ts';

const SHA = 'ab'.repeat(32);
const ID = SHA.slice(0, 12);
const DEST = '/srv/app/releases/1.2';
const REC = `${DEST}/${RECORD}`;
const P: UnarchiveParams = {
  url: 'http://127.0.0.1/app-1.2.tar.gz',
  sha256: SHA,
  dest: DEST,
  stripComponents: 1,
  owner: 'app',
  group: 'app',
};
const RECORDED = `archive app-1.2.tar.gz\nsha256 ${SHA}\nstrip 1\nowner app:app\n`;

function plan(
  params: UnarchiveParams,
  at: FileFact,
  record: FileFact,
  parent: FileFact = dir('/srv/app/releases'),
): Promise<Plan> {
  return preparePlan(
    unarchive(params),
    answerFrom({
      files: { [DEST]: at, [REC]: record, '/srv/app/releases': parent },
      users: ['app'],
      groups: ['app'],
    }),
  );
}

const SCRATCH = `/srv/app/releases/.fleetbook-unar-${ID}`;
const GET = `unpack app-1.2.tar.gz beside ${DEST} | fetch http://127.0.0.1/app-1.2.tar.gz; unpack app-1.2.tar.gz into ${SCRATCH} | rm -r ${SCRATCH}`;

const ROWS: readonly [
  string,
  UnarchiveParams,
  FileFact,
  FileFact,
  string | readonly string[],
  FileFact?,
][] = [
  ['dest records this archive: nothing fetched', P, dir(DEST), file(REC, RECORDED), 'ok'],
  [
    'no dest: unpacked beside it, then renamed into place',
    P,
    absent(DEST),
    absent(REC),
    [GET, `create ${DEST} | mv ${SCRATCH} ${DEST} | rm -r ${DEST}`],
  ],
  [
    'dest holds another archive: the old tree kept in the backups just before the rename',
    P,
    dir(DEST),
    file(REC, RECORDED.replace(SHA, 'cd'.repeat(32))),
    [
      GET,
      `keep the old ${DEST} in the run's backups | remove ${DEST} | `,
      `replace ${DEST} | mv ${SCRATCH} ${DEST} | rm -r ${DEST}`,
    ],
  ],
  [
    'the same archive, another owner: unpacked again',
    { ...P, owner: 'root' },
    dir(DEST),
    file(REC, RECORDED),
    [
      GET,
      `keep the old ${DEST} in the run's backups | remove ${DEST} | `,
      `replace ${DEST} | mv ${SCRATCH} ${DEST} | rm -r ${DEST}`,
    ],
  ],
  ['a file at dest', P, file(DEST, 'x'), absent(REC), `fail: ${DEST} is a file, not a directory`],
  [
    'no directory to put it in',
    P,
    absent(DEST),
    absent(REC),
    'fail: /srv/app/releases is not a directory (make it first, with ensureDir)',
    absent('/srv/app/releases'),
  ],
];

for (const [what, params, at, record, want, parent] of ROWS)
  test(`unarchive: ${what}`, async (t) => {
    const got = planRows(await plan(params, at, record, parent));
    t.diagnostic(JSON.stringify(got));
    assert.deepEqual(got, want);
  });

test('unarchive: the diff names the archive dest held and the one it will hold', async () => {
  const p = await plan(P, dir(DEST), file(REC, RECORDED.replace(SHA, 'cd'.repeat(32))));
  assert.equal(p.status, 'change');
  assert.deepEqual(
    p.changes.flatMap((c) => c.diff),
    [
      {
        kind: 'item',
        sign: '-',
        text: `${DEST}: app-1.2.tar.gz (sha256 ${'cd'.repeat(32)}) unpacked`,
      },
      {
        kind: 'item',
        sign: '+',
        text: `${DEST}: app-1.2.tar.gz (sha256 ${SHA}) from http://127.0.0.1/app-1.2.tar.gz unpacked, 1 leading component(s) stripped, owned by app:app; what it holds replaces what is there`,
      },
    ],
  );
});

test('unarchive: an owner that does not exist fails before any change', async () => {
  const got = await preparePlan(
    unarchive(P),
    answerFrom({
      files: {
        [DEST]: absent(DEST),
        [REC]: absent(REC),
        '/srv/app/releases': dir('/srv/app/releases'),
      },
    }),
  );
  assert.equal(got.status, 'fail');
  assert.match(got.message, /user "app" and group "app" do not exist/);
});

test('unarchive: a controller archive is uploaded, its sha256 checked against the one given', async () => {
  const tmp = await mkdtemp(path.join(tmpdir(), 'fb-unar-'));
  try {
    const src = path.join(tmp, 'site.zip');
    await writeFile(src, 'PK not really a zip');
    const got = await plan({ src, dest: DEST }, absent(DEST), absent(REC));
    assert.equal(got.status, 'change');
    assert.equal(got.changes[0]?.steps[0]?.op, 'write');
    await assert.rejects(
      unarchive({ src, dest: DEST, sha256: SHA }).prepare(host),
      (e: unknown) =>
        e instanceof ConfigError &&
        /src: .*site\.zip has sha256 [0-9a-f]{64}, not ab/.test(e.message),
    );
  } finally {
    await rm(tmp, { recursive: true });
  }
});

test('unarchive: params are checked before any host', () => {
  assert.throws(() => unarchive({ dest: DEST }), /src: give src or url; none was given/);
  assert.throws(() => unarchive({ url: 'http://x/app.tar.gz', dest: DEST }), /sha256/);
  assert.throws(
    () => unarchive({ url: 'http://x/app.rar', sha256: SHA, dest: DEST }),
    /url: cannot tell the archive's format from its name "app\.rar"/,
  );
  assert.throws(
    () => unarchive({ src: 'site.zip', dest: DEST, stripComponents: 1 }),
    /stripComponents: only for tar archives/,
  );
  assert.throws(() => unarchive({ src: 'a.tar', dest: DEST, via: 'host' }), /via/);
});
