import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { definePlaybook, Type } from '../../src/index.ts';
import { resolveInventory } from '../../src/inventory/load.ts';
import { parseExtraVars } from '../../src/runner/extra-vars.ts';
import { prepareHost } from '../../src/runner/prepare.ts';

const dir = mkdtempSync(join(tmpdir(), 'fb-extra-vars-'));
await writeFile(join(dir, 'vars.yaml'), 'workers: 4\ndomain: from-file.example.org\n');
await writeFile(join(dir, 'list.yaml'), '- a\n- b\n');
await writeFile(join(dir, 'vars.json'), '{"workers": 5}');

const parsed: ReadonlyArray<{ args: string[]; vars?: Record<string, unknown>; error?: RegExp }> = [
  { args: ['domain=example.org'], vars: { domain: 'example.org' } },
  { args: ['a=1 b=2'], vars: { a: '1', b: '2' } },
  { args: ['motd=hello world'], vars: { motd: 'hello world' } },
  { args: ['url=https://x.example/?a=b'], vars: { url: 'https://x.example/?a=b' } },
  { args: ['empty='], vars: { empty: '' } },
  { args: ['{"workers": 3, "debug": false}'], vars: { workers: 3, debug: false } },
  { args: [`@${dir}/vars.yaml`], vars: { workers: 4, domain: 'from-file.example.org' } },
  { args: [`@${dir}/vars.json`], vars: { workers: 5 } },
  // later options win, as in Ansible
  { args: ['workers=2', '{"workers": 3}'], vars: { workers: 3 } },
  {
    args: [`@${dir}/vars.yaml`, 'domain=cli.example.org'],
    vars: { workers: 4, domain: 'cli.example.org' },
  },
  { args: ['workers'], error: /--extra-vars "workers": expected key=value, a JSON object/ },
  { args: ['1x=2'], error: /expected key=value/ },
  { args: ['{"workers": 3'], error: /--extra-vars '\{"workers": 3': invalid JSON/ },
  { args: ['{"a-b": 1}'], error: /"a-b" is not a var name/ },
  { args: [`@${dir}/list.yaml`], error: /list\.yaml: expected a mapping/ },
  { args: [`@${dir}/none.yaml`], error: /--extra-vars @.*none\.yaml: cannot read/ },
];

for (const c of parsed) {
  test(`--extra-vars ${c.args.join(' ')}`, async () => {
    if (c.error !== undefined) {
      await assert.rejects(parseExtraVars(c.args), c.error);
      return;
    }
    assert.deepEqual((await parseExtraVars(c.args)).vars, c.vars);
  });
}

const inv = resolveInventory(
  {
    environment: 'staging',
    defaults: { user: 'deploy' },
    vars: { source: 'inventory', domain: 'inv.example.org' },
    hosts: { web1: { address: '192.0.2.10', vars: { source: 'host' } } },
    groups: { web: { hosts: ['web1'], vars: { source: 'group', workers: 2 } } },
  },
  'inventories/staging.yaml',
);
const pb = definePlaybook({
  name: 'vars',
  hosts: 'all',
  varsSchema: Type.Object({
    source: Type.String(),
    domain: Type.String(),
    workers: Type.Integer({ minimum: 1 }),
  }),
  vars: { source: 'playbook', workers: 1 },
  tasks: [],
});
const web1 = inv.hosts[0] ?? assert.fail('no host');

const merged: ReadonlyArray<{ args: string[]; want?: Record<string, unknown>; error?: RegExp }> = [
  { args: [], want: { source: 'host', domain: 'inv.example.org', workers: 2 } },
  {
    args: ['source=cli', '{"workers": 8}'],
    want: { source: 'cli', domain: 'inv.example.org', workers: 8 },
  },
  {
    args: ['workers=8'],
    error:
      /^workers: expected .*integer.*got "8" \(key=value gives text; for a number, boolean or list use JSON: -e '\{"workers": \.\.\.\}'\)$/,
  },
  { args: ['{"workers": 0}'], error: /^workers: expected .*>= 1/ },
];

for (const c of merged) {
  test(`vars precedence: playbook < inventory < group < host < -e ${c.args.join(' ')}`, async () => {
    const extra = await parseExtraVars(c.args);
    const run = prepareHost(pb, 'playbooks/vars.ts', inv, web1, {}, {}, extra);
    if (c.error !== undefined) {
      await assert.rejects(run, (err: Error & { source?: { file?: string } }) => {
        assert.match(err.message, c.error ?? /./);
        assert.match(err.source?.file ?? '', /^-e (workers=\.\.\.|JSON)$/, 'names the option');
        return true;
      });
      return;
    }
    assert.deepEqual({ ...(await run).view.vars }, c.want);
  });
}
