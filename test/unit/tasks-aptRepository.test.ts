// aptRepository: the key's fingerprint (against gpg's, for a captured key), the deb822 file, and
// the plans, one case per row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FileFact, Plan } from '../../src/index.ts';
import { aptRepository, sourcesFile, type AptRepositoryParams } from '../../tasks/aptRepository.ts';
import { dearmor, keyFingerprints } from '../../tasks/openpgp.ts';
import { absent, answerFrom, dir, file, planRows, preparePlan, stepText } from './fixtures.ts';

const KEY = readFileSync('test/fixtures/openpgp/ed25519.asc', 'utf8');
const FPR = '5B4E2117757112B33AF7449177528FEFAC7838AC';

test('keyFingerprints: the primary key of an armored key, and of its binary form, as gpg says', () => {
  assert.deepEqual(keyFingerprints(Buffer.from(KEY)), [FPR]);
  assert.deepEqual(keyFingerprints(dearmor(Buffer.from(KEY))), [FPR]);
  assert.throws(() => keyFingerprints(Buffer.from('not a key')), /not an OpenPGP key/);
});

const WHERE = {
  name: 'nginx',
  uris: 'https://nginx.org/packages/debian',
  suites: ['bookworm'],
  components: ['nginx'],
};
const P: AptRepositoryParams = { ...WHERE, key: KEY, fingerprint: FPR };

test('sourcesFile: deb822 with Signed-By its own key', () => {
  assert.equal(
    sourcesFile({ ...P, architectures: ['amd64'] }),
    'Types: deb\nURIs: https://nginx.org/packages/debian\nSuites: bookworm\nComponents: nginx\nArchitectures: amd64\nSigned-By: /etc/apt/keyrings/nginx.asc\n',
  );
  assert.equal(
    sourcesFile({ name: 'local', uris: 'http://127.0.0.1:8080/', suites: ['./'], key: KEY }),
    'Types: deb\nURIs: http://127.0.0.1:8080/\nSuites: ./\nSigned-By: /etc/apt/keyrings/local.asc\n',
  );
});

const SRC = '/etc/apt/sources.list.d/nginx.sources';
const ASC = '/etc/apt/keyrings/nginx.asc';
async function plan(params: AptRepositoryParams, files: Record<string, FileFact>): Promise<Plan> {
  return preparePlan(
    aptRepository(params),
    answerFrom({ files: { '/etc/apt/keyrings': dir('/etc/apt/keyrings'), ...files } }),
  );
}

const ROWS: readonly [
  string,
  AptRepositoryParams,
  Record<string, FileFact>,
  string | readonly string[],
][] = [
  [
    'new: the key, the file, then this repository refreshed',
    P,
    {},
    [
      `create file ${ASC} (0644 root:root) | write ${ASC}`,
      `create file ${SRC} (0644 root:root) | write ${SRC}`,
      'refresh the index of apt repository nginx | apt-get update (nginx)',
    ],
  ],
  [
    'there as wanted: nothing refreshed',
    P,
    { [SRC]: file(SRC, sourcesFile(P)), [ASC]: file(ASC, KEY) },
    'ok',
  ],
  [
    'another suite: the file, and a refresh',
    { ...P, suites: ['trixie'] },
    { [SRC]: file(SRC, sourcesFile(P)), [ASC]: file(ASC, KEY) },
    [
      `update file ${SRC} (0644 root:root) | write ${SRC}`,
      'refresh the index of apt repository nginx | apt-get update (nginx)',
    ],
  ],
  [
    'no /etc/apt/keyrings (before apt 2.4): made first',
    P,
    { '/etc/apt/keyrings': absent('/etc/apt/keyrings') },
    [
      'create directory /etc/apt/keyrings (0755 root:root) | mkdir /etc/apt/keyrings',
      `create file ${ASC} (0644 root:root) | write ${ASC}`,
      `create file ${SRC} (0644 root:root) | write ${SRC}`,
      'refresh the index of apt repository nginx | apt-get update (nginx)',
    ],
  ],
  [
    'absent: both files kept in the backups',
    { name: 'nginx', state: 'absent' },
    { [SRC]: file(SRC, sourcesFile(P)), [ASC]: file(ASC, KEY) },
    [
      `remove ${SRC} (kept in the run's backups) | remove ${SRC}`,
      `remove ${ASC} (kept in the run's backups) | remove ${ASC}`,
    ],
  ],
];

for (const [what, params, files, want] of ROWS)
  test(`aptRepository: ${what}`, async (t) => {
    const got = planRows(
      await plan(params, files),
      (c) => `${c.summary} | ${c.steps.map(stepText).join('; ')}`,
    );
    t.diagnostic(JSON.stringify(got));
    assert.deepEqual(got, want);
  });

test('aptRepository: a key with another fingerprint is refused before any host is touched', async () => {
  await assert.rejects(
    plan({ ...P, fingerprint: 'A'.repeat(40) }, {}),
    new RegExp(
      `the key of apt repository nginx is ${FPR}, not the fingerprint given \\(A{40}\\): refusing it`,
    ),
  );
});

test('aptRepository: params are checked as data', () => {
  assert.throws(() => aptRepository(WHERE), /give key, keySrc or keyUrl/);
  assert.throws(
    () => aptRepository({ ...WHERE, keyUrl: 'https://nginx.org/keys/nginx_signing.key' }),
    /fingerprint: required when keyUrl is given/,
  );
  assert.throws(
    () => aptRepository({ ...P, suites: ['./'] }),
    /a flat repository \(a suite ending in \/\) has no components/,
  );
});
