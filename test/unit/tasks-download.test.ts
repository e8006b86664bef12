// download's plan (fetched by the host), one case per row: what dest holds, and the changes as
// `summary | steps | undo`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { FileFact, Plan } from '../../src/index.ts';
import { download, type DownloadParams } from '../../tasks/download.ts';
import { absent, answerFrom, dir, file, planRows, preparePlan } from './fixtures.ts';

const BODY = '#!/bin/sh\necho tool\n';
const SHA = createHash('sha256').update(BODY).digest('hex');
const DEST = '/usr/local/bin/tool';
const TMP = `/usr/local/bin/.fleetbook-dl-${SHA.slice(0, 12)}`;
const P: DownloadParams = {
  url: 'https://example.org/tool.sh',
  dest: DEST,
  sha256: SHA,
  mode: '0755',
};

function plan(
  params: DownloadParams,
  at: FileFact,
  parent: FileFact = dir('/usr/local/bin'),
): Promise<Plan> {
  return preparePlan(
    download(params),
    answerFrom({ files: { [DEST]: at, '/usr/local/bin': parent } }),
  );
}

const ROWS: readonly [string, DownloadParams, FileFact, string | readonly string[], FileFact?][] = [
  ['dest has the hash: nothing fetched', P, file(DEST, BODY, { mode: '0755' }), 'ok'],
  [
    'dest has the hash, another mode: only chmod',
    P,
    file(DEST, BODY),
    [`set mode of file ${DEST} | chmod 0755 ${DEST} | chmod 0644 ${DEST}`],
  ],
  [
    'no dest: fetched beside it, checked, renamed into place',
    P,
    absent(DEST),
    [
      `download https://example.org/tool.sh (sha256 ${SHA.slice(0, 12)}…) | fetch https://example.org/tool.sh | rm ${TMP}`,
      `create ${DEST} | mv ${TMP} ${DEST} | rm ${DEST}`,
    ],
  ],
  [
    'another file at dest: kept in the backups just before the rename',
    P,
    file(DEST, 'old\n'),
    [
      `download https://example.org/tool.sh (sha256 ${SHA.slice(0, 12)}…) | fetch https://example.org/tool.sh | rm ${TMP}`,
      `keep the old ${DEST} in the run's backups | remove ${DEST} | `,
      `replace ${DEST} | mv ${TMP} ${DEST} | rm ${DEST}`,
    ],
  ],
  ['a directory at dest', P, dir(DEST), `fail: ${DEST} is a directory, not a regular file`],
  [
    'no directory to put it in',
    P,
    absent(DEST),
    'fail: /usr/local/bin is not a directory (make it first, with ensureDir)',
    absent('/usr/local/bin'),
  ],
];

for (const [what, params, at, want, parent] of ROWS)
  test(`download: ${what}`, async (t) => {
    const got = planRows(await plan(params, at, parent));
    t.diagnostic(JSON.stringify(got));
    assert.deepEqual(got, want);
  });

test('download: params are checked before any host', () => {
  assert.throws(
    () => download({ ...P, sha256: 'abc' }),
    /sha256: expected a sha256 in 64 lowercase hex digits/,
  );
  assert.throws(
    () => download({ ...P, url: 'ftp://example.org/x' }),
    /url: expected an http:\/\/ or https:\/\/ URL/,
  );
  // @ts-expect-error the checksum is required
  assert.throws(() => download({ url: P.url, dest: DEST }), /sha256/);
});
