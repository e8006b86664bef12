#!/usr/bin/env node
// Runs every test: type tests (tsc), unit tests, then end-to-end tests against lab hosts.
// Node 20's --test neither expands globs nor finds .ts files, and a bare run finds 0 tests and
// exits 0, so the files are listed here and an empty list is an error.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const which = process.argv[2] ?? 'all';
const suites = which === 'all' ? ['unit', 'e2e'] : [which];

function files(dir) {
  return readdirSync(join('test', dir))
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => join('test', dir, f));
}

function run(cmd, args) {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (which === 'all' || which === 'e2e') {
  // End-to-end tests run the CLI as users get it: compiled and bundled, from dist/.
  run('npm', ['run', '--silent', 'build']);
}
if (which === 'all' || which === 'types') {
  // Type tests: test/types/*.ts hold @ts-expect-error lines that must stay errors.
  run('npx', ['tsc', '--noEmit', '-p', '.']);
}
for (const suite of suites.filter((s) => s !== 'types')) {
  const list = files(suite);
  if (list.length === 0) {
    console.error(`no test files in test/${suite}`);
    process.exit(1);
  }
  // e2e files share one lab, so they run one file at a time.
  // A hung test fails (and names itself) instead of eating CI's whole budget. The limit also
  // applies to each file as a whole: the longest e2e file takes about 4 minutes.
  const concurrency =
    suite === 'e2e'
      ? ['--test-concurrency=1', '--test-timeout=1200000']
      : ['--test-timeout=300000'];
  // Tests import the engine from its sources, and so must what they load in-process: with this
  // condition `import 'fleetbook'` means src/ (package.json exports), one engine per process.
  run(process.execPath, [
    '--conditions=fleetbook-source',
    '--import',
    'tsx',
    '--test',
    ...concurrency,
    ...list,
  ]);
}
