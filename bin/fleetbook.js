#!/usr/bin/env node
// Playbooks, inventories and custom tasks are TypeScript: load tsx before the CLI so they can be imported.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
