#!/usr/bin/env node
// One engine per process: a fleetbook run through npx or a global install hands over to the
// project's own copy when there is one, the copy its playbooks' `import 'fleetbook'` resolves to.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cliOf = (root) => join(root, 'dist', 'bundle', 'cli.js');

let root = dirname(dirname(fileURLToPath(import.meta.url)));
try {
  const local = dirname(
    createRequire(join(process.cwd(), 'index.js')).resolve('fleetbook/package.json'),
  );
  if (existsSync(cliOf(local))) root = local;
} catch {
  // no fleetbook in this project: this copy runs
}
if (!existsSync(cliOf(root))) {
  console.error(`fleetbook: ${cliOf(root)} is missing: run \`npm run build\` in ${root}`);
  process.exit(1);
}
await import(pathToFileURL(cliOf(root)).href);
