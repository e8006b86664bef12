#!/usr/bin/env node
// Bundles the compiled engine (dist/, from tsc) into dist/bundle/: start-up is mostly module
// loading (typebox alone is 700 files), and one file per entry loads several times faster.
// Code splitting keeps one copy of every module, so the CLI and a playbook's `import 'fleetbook'`
// share one engine. Packages with native parts or their own loaders stay external.
import { readFile, readdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { build } from 'esbuild';

const entries = {
  index: 'dist/src/index.js',
  tasks: 'dist/tasks/index.js',
  lab: 'dist/src/lab/index.js',
  cli: 'dist/src/cli/main.js',
  // spawned as its own process by the lab (src/lab/smarthost.ts finds it beside its chunk)
  'smarthost-main': 'dist/src/lab/smarthost-main.js',
};

// chunk names carry a content hash: chunks of an earlier build would linger
await rm('dist/bundle', { recursive: true, force: true });
// The built-in tasks import 'fleetbook' as users do; here that is the engine being bundled, not
// the package's exports (which name this bundle).
const SELF = {
  fleetbook: entries.index,
  'fleetbook/tasks': entries.tasks,
  'fleetbook/lab': entries.lab,
};
const selfImports = {
  name: 'fleetbook-self-imports',
  setup(b) {
    b.onResolve({ filter: /^fleetbook(\/[a-z]+)?$/ }, (args) => ({
      path: resolve(SELF[args.path]),
    }));
  },
};

await build({
  entryPoints: entries,
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['ssh2', 'node-ssh', 'tsx', 'esbuild', 'smtp-server', 'zx'],
  // CommonJS packages folded into an ES module still call require() for node's own modules
  banner: {
    js: "import { createRequire as __fleetbookRequire } from 'node:module'; const require = __fleetbookRequire(import.meta.url);",
  },
  plugins: [selfImports],
  logLevel: 'warning',
});

// esbuild gives `await import('cjs-package')` only a default export (node would give the named
// ones too): such a chunk is a module whose only export is `export default require_...()`.
for (const f of await readdir('dist/bundle')) {
  const text = await readFile(`dist/bundle/${f}`, 'utf8');
  if (/^export default require_\w+\(\);$/m.test(text) && !/^export \{/m.test(text)) {
    console.error(
      `bundle: dist/bundle/${f} is a CommonJS package imported dynamically; import it statically`,
    );
    process.exit(1);
  }
}
