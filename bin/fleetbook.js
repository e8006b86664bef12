#!/usr/bin/env node
// The heavy dependencies load first, natively: once tsx's loader hooks are registered, every module
// import goes through them (typebox alone is ~500 modules), which made startup ~0.3 s slower.
// These are the same module instances the engine imports later.
await Promise.all(
  ['typebox', 'ajv', 'ajv-formats', 'yaml', 'node-ssh', 'ejs', '@commander-js/extra-typings'].map(
    (m) => import(m),
  ),
);
// Playbooks, inventories and custom tasks are TypeScript: load tsx before the CLI so they can be imported.
const { register } = await import('tsx/esm/api');
register();
await import('../src/cli/main.ts');
