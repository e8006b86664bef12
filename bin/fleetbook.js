#!/usr/bin/env node
// One engine per process: a fleetbook run through npx or a global install hands over to the
// project's own copy when there is one, the copy its playbooks' `import 'fleetbook'` resolves to.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

function cliOf(root) {
  return join(root, 'dist', 'src', 'cli', 'main.js');
}

let cli = cliOf(dirname(dirname(fileURLToPath(import.meta.url))));
try {
  const local = createRequire(join(process.cwd(), 'index.js')).resolve('fleetbook/package.json');
  if (existsSync(cliOf(dirname(local)))) cli = cliOf(dirname(local));
} catch {
  // no fleetbook in this project: this copy runs
}
if (!existsSync(cli)) {
  console.error(
    `fleetbook: ${cli} is missing: run \`npm run build\` in ${dirname(dirname(dirname(dirname(cli))))}`,
  );
  process.exit(1);
}
await import(pathToFileURL(cli).href);
