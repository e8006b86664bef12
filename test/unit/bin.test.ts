import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

test('every module bin/fleetbook.js preloads is a dependency (a missing one would stop the CLI at startup)', () => {
  const bin = readFileSync(new URL('../../bin/fleetbook.js', import.meta.url), 'utf8');
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const list = /await Promise\.all\(\s*\[([^\]]*)\]/.exec(bin)?.[1] ?? '';
  const preloaded = [...list.matchAll(/'([^']+)'/g)].map((m) => m[1] ?? '');
  assert.ok(preloaded.includes('typebox'), 'the preload list was found');
  for (const m of preloaded) assert.ok(m in pkg.dependencies, `${m} is not in dependencies`);
});
