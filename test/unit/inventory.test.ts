import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../../src/inventory/load.ts';
import { selectHosts, targetHosts } from '../../src/inventory/select.ts';

function yamlFile(text: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'fb-inv-')), 'inv.yaml');
  writeFileSync(f, text);
  return f;
}

const INV = `
environment: staging
defaults: { user: deploy, become: true, key: ~/.ssh/id_ed25519 }
vars: { domain: example.org, tier: all }
hosts:
  web1: { address: 10.0.0.1, vars: { tier: host } }
  web2: { address: 10.0.0.2 }
  db1: { address: 10.0.0.3, port: 2222, user: root }
groups:
  web: { hosts: [web1, web2], vars: { tier: web, role: frontend } }
  backend: { hosts: [db1] }
  site: { children: [web, backend], vars: { tier: site } }
`;

test('groups, children and var precedence (all < parent group < child group < host)', async () => {
  const inv = await loadInventory(yamlFile(INV));
  assert.equal(inv.environment, 'staging');
  const web1 = inv.hosts.find((h) => h.name === 'web1');
  const web2 = inv.hosts.find((h) => h.name === 'web2');
  const db1 = inv.hosts.find((h) => h.name === 'db1');
  assert.equal(web1?.vars.tier, 'host');
  assert.equal(web2?.vars.tier, 'web');
  assert.equal(web2?.vars.role, 'frontend');
  assert.equal(db1?.vars.tier, 'site');
  assert.equal(db1?.port, 2222);
  assert.equal(db1?.user, 'root');
  assert.equal(web1?.user, 'deploy');
  assert.equal(web1?.become, true);
  assert.ok(web1?.key?.endsWith('/.ssh/id_ed25519') && !web1.key.startsWith('~'));
  assert.deepEqual([...(inv.groups.get('site') ?? [])].sort(), ['db1', 'web1', 'web2']);
});

test('host patterns and --limit', async () => {
  const inv = await loadInventory(yamlFile(INV));
  const names = (p: string) => [...selectHosts(inv, p, '--limit')].sort();
  assert.deepEqual(names('all'), ['db1', 'web1', 'web2']);
  assert.deepEqual(names('web'), ['web1', 'web2']);
  assert.deepEqual(names('web*'), ['web1', 'web2']);
  assert.deepEqual(names('site,!web2'), ['db1', 'web1']);
  assert.deepEqual(names('site,&web'), ['web1', 'web2']);
  assert.deepEqual(names('db1'), ['db1']);
  assert.throws(
    () => selectHosts(inv, 'wbe1', '--limit'),
    /--limit "wbe1" matches no host or group/,
  );
  assert.deepEqual(
    targetHosts(inv, ['web'], 'web2,db1').map((h) => h.name),
    ['web2'],
  );
});

test('validation errors name the file, line and field', async () => {
  const cases: [string, RegExp][] = [
    [
      INV.replace('port: 2222', 'port: "2222"'),
      /inv\.yaml:\d+:\d+: hosts\.db1\.port: expected value that must be integer, got "2222"/,
    ],
    [
      INV.replace('address: 10.0.0.2', 'adress: 10.0.0.2'),
      /hosts\.web2\.adress: unknown field \(did you mean "address"\?\)/,
    ],
    [INV.replace('environment: staging\n', ''), /environment: required field is missing/],
    [INV.replace('[web1, web2]', '[web1, web3]'), /group "web" lists unknown host "web3"/],
    ['hosts: [', /not valid YAML/],
    ['', /the inventory is empty \(it needs at least environment and hosts\)/],
    [
      INV.replace('web2: { address', '"../../etc/x": { address'),
      /host name "\.\.\/\.\.\/etc\/x" is not valid/,
    ],
    [
      INV.replace('web2: { address', '"lab 24;rm": { address'),
      /host name "lab 24;rm" is not valid/,
    ],
    [INV.replace('backend: {', '"s a;x": {'), /group name "s a;x" is not valid/],
    [
      INV.replace('address: 10.0.0.2', 'address: "10.0.0.2\\nx"'),
      /hosts\.web2\.address: expected a host name or IP address/,
    ],
  ];
  for (const [text, want] of cases) {
    await assert.rejects(
      loadInventory(yamlFile(text)),
      (err: Error & { describe?: () => string }) => {
        assert.match(err.describe?.() ?? err.message, want);
        return true;
      },
    );
  }
  await assert.rejects(loadInventory('/nonexistent/inv.yaml'), /inventory file not found/);
});

test('an exclusion or intersection that names nothing is an error, like an inclusion', async () => {
  const inv = await loadInventory(yamlFile(INV));
  for (const p of ['!web3', '&nosuch', 'web,!db9'])
    assert.throws(
      () => selectHosts(inv, p, '--limit'),
      /--limit "(web3|nosuch|db9)" matches no host or group/,
    );
  assert.deepEqual([...selectHosts(inv, '!web*', '--limit')], ['db1'], 'a glob may match nothing');
});

test('a missing key file is refused before connecting, naming the inventory field', async () => {
  const inv = await loadInventory(yamlFile(INV));
  const { checkKeyFiles } = await import('../../src/inventory/load.ts');
  await assert.rejects(
    checkKeyFiles(inv, inv.hosts),
    (err: Error & { describe?: () => string }) => {
      assert.match(
        err.describe?.() ?? '',
        /inv\.yaml: defaults\.key: the private key file \/.*\/\.ssh\/id_ed25519 does not exist/,
      );
      return true;
    },
  );
});
