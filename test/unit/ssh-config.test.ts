import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../../src/inventory/load.ts';

/** A directory with an ssh config, a key file that exists, and an inventory pointing at both. */
function setup(config: string, inventory: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fb-sshcfg-'));
  writeFileSync(join(dir, 'id_present'), 'not really a key');
  writeFileSync(join(dir, 'id_deploy'), 'not really a key');
  writeFileSync(join(dir, 'config'), config.replaceAll('DIR', dir));
  const inv = join(dir, 'inv.yaml');
  writeFileSync(
    inv,
    `environment: staging\n${inventory.replaceAll('CONFIG', join(dir, 'config')).replaceAll('DIR', dir)}`,
  );
  return inv;
}

interface Case {
  readonly name: string;
  readonly config: string;
  readonly inventory: string;
  /** host -> "user@address:port key=... via=hop,hop" */
  readonly expect: Readonly<Record<string, string>>;
}

const cases: readonly Case[] = [
  {
    name: 'HostName, Port, User and IdentityFile apply where the inventory is silent',
    config:
      'Host web1\n  HostName 10.0.0.1\n  Port 2222\n  User deploy\n  IdentityFile DIR/id_present\n',
    inventory: 'defaults: { sshConfig: CONFIG }\nhosts: { web1: {} }\n',
    expect: { web1: 'deploy@10.0.0.1:2222 key=DIR/id_present' },
  },
  {
    name: 'the inventory wins for user, port and key; HostName renames the address, as in Ansible',
    config:
      'Host web1\n  HostName 10.0.0.1\n  Port 2222\n  User deploy\n  IdentityFile DIR/id_present\n',
    inventory:
      'defaults: { sshConfig: CONFIG, user: ops, key: DIR/inv_key }\nhosts: { web1: { port: 22 } }\n',
    expect: { web1: 'ops@10.0.0.1:22 key=DIR/inv_key' },
  },
  {
    name: 'the first value wins and patterns match the address fleetbook would connect to',
    config:
      'Host 10.0.0.*\n  User first\nHost *\n  User second\n  Port 2200\nHost db*\n  Port 5555\n',
    inventory: 'defaults: { sshConfig: CONFIG }\nhosts: { web1: { address: 10.0.0.7 }, db1: {} }\n',
    expect: { web1: 'first@10.0.0.7:2200', db1: 'second@db1:2200' },
  },
  {
    name: 'a missing IdentityFile is skipped, as OpenSSH does (the agent is used)',
    config: 'Host *\n  IdentityFile DIR/id_absent\n',
    inventory: 'defaults: { sshConfig: CONFIG }\nhosts: { web1: {} }\n',
    expect: { web1: 'root@web1:22' },
  },
  {
    name: '%h, %r and ~ are expanded',
    config: `Host web1\n  HostName %h.internal\n  User deploy\n  IdentityFile ~/.fleetbook-test-absent-%h\n  IdentityFile DIR/id_%r\n`,
    inventory: 'defaults: { sshConfig: CONFIG }\nhosts: { web1: {} }\n',
    expect: { web1: 'deploy@web1.internal:22 key=DIR/id_deploy' },
  },
  {
    name: 'ProxyJump: a chain, each hop resolved through the config, the first hop through its own ProxyJump',
    config:
      'Host web1\n  ProxyJump bastion,ops@inner:2022\nHost bastion\n  HostName 192.0.2.1\n  User jump\n  IdentityFile DIR/id_present\n  ProxyJump outer\nHost outer\n  HostName 192.0.2.9\n',
    inventory: 'defaults: { sshConfig: CONFIG }\nhosts: { web1: {} }\n',
    expect: {
      web1: 'root@web1:22 via=root@192.0.2.9:22,jump@192.0.2.1:22,ops@inner:2022',
    },
  },
  {
    name: 'an inventory proxyJump wins over the config, and `none` turns the config one off',
    config: 'Host *\n  ProxyJump cfgjump\n',
    inventory:
      'defaults: { sshConfig: CONFIG, key: DIR/id_present }\nhosts:\n  web1: { proxyJump: "admin@[2001:db8::1]:2200" }\n  web2: { proxyJump: none }\n  web3: {}\n',
    expect: {
      // The jump host matches `Host *` too, so it is reached through cfgjump (which names itself: direct).
      web1: 'root@web1:22 key=DIR/id_present via=root@cfgjump:22,admin@2001:db8::1:2200',
      web2: 'root@web2:22 key=DIR/id_present',
      web3: 'root@web3:22 key=DIR/id_present via=root@cfgjump:22',
    },
  },
  {
    name: 'sshConfig: none reads no config at all',
    config: 'Host *\n  User nobody-should-see-this\n',
    inventory: 'defaults: { sshConfig: none }\nhosts: { web1: {} }\n',
    expect: { web1: 'root@web1:22' },
  },
  {
    name: 'connection: local ignores the ssh config',
    config: 'Host *\n  ProxyJump somewhere\n',
    inventory: 'defaults: { sshConfig: CONFIG }\nhosts: { here: { connection: local } }\n',
    expect: { here: 'root@here:22' },
  },
];

for (const c of cases) {
  test(`ssh config: ${c.name}`, async () => {
    const file = setup(c.config, c.inventory);
    const dir = join(file, '..');
    const inv = await loadInventory(file);
    const shown = Object.fromEntries(
      inv.hosts.map((h) => [
        h.name,
        [
          `${h.user}@${h.address}:${String(h.port)}`,
          ...(h.key !== undefined ? [`key=${h.key}`] : []),
          ...(h.jumps.length > 0
            ? [`via=${h.jumps.map((j) => `${j.user}@${j.address}:${String(j.port)}`).join(',')}`]
            : []),
        ].join(' '),
      ]),
    );
    const expected = Object.fromEntries(
      Object.entries(c.expect).map(([h, v]) => [h, v.replaceAll('DIR', dir)]),
    );
    assert.deepEqual(shown, expected);
  });
}

test('ssh config: a jump host without a key of its own uses the inventory default key', async () => {
  const file = setup(
    'Host web1\n  ProxyJump bastion\n',
    'defaults: { sshConfig: CONFIG, key: DIR/id_present }\nhosts: { web1: {} }\n',
  );
  const inv = await loadInventory(file);
  assert.equal(inv.hosts[0]?.jumps[0]?.key, join(file, '..', 'id_present'));
});

const errors: readonly { name: string; config: string; inventory: string; message: RegExp }[] = [
  {
    name: 'a ProxyJump loop',
    config: 'Host a\n  ProxyJump b\nHost b\n  ProxyJump a\nHost web1\n  ProxyJump a\n',
    inventory: 'defaults: { sshConfig: CONFIG }\nhosts: { web1: {} }\n',
    message: /ProxyJump loop: web1 -> a -> b -> a/,
  },
  {
    name: 'a ProxyJump that is not [user@]host[:port]',
    config: 'Host web1\n  ProxyJump bad host:99999\n',
    inventory: 'defaults: { sshConfig: CONFIG }\nhosts: { web1: {} }\n',
    message: /config: ProxyJump for host web1: "bad host:99999" is not \[user@\]host\[:port\]/,
  },
  {
    name: 'an inventory proxyJump with a bad port names the field',
    config: '',
    inventory: 'defaults: { sshConfig: CONFIG }\nhosts: { web1: { proxyJump: "a:0" } }\n',
    message: /inv\.yaml: hosts\.web1\.proxyJump: "a:0" is not \[user@\]host\[:port\]/,
  },
  {
    name: 'a Port that is not a number',
    config: 'Host web1\n  Port ssh\n',
    inventory: 'defaults: { sshConfig: CONFIG }\nhosts: { web1: {} }\n',
    message: /config: Port "ssh" for host web1 is not a port number/,
  },
];

for (const e of errors) {
  test(`ssh config error: ${e.name}`, async () => {
    const file = setup(e.config, e.inventory);
    await assert.rejects(loadInventory(file), (err: Error & { describe?: () => string }) => {
      assert.match(err.describe?.() ?? err.message, e.message);
      return true;
    });
  });
}

test('ssh config: Match exec is never run while loading an inventory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-sshcfg-exec-'));
  const marker = join(dir, 'ran');
  const file = setup(
    `Match exec "touch ${marker}"\n  User wrong\n`,
    'defaults: { sshConfig: CONFIG }\nhosts: { web1: {} }\n',
  );
  const inv = await loadInventory(file);
  assert.equal(existsSync(marker), false);
  assert.equal(inv.hosts[0]?.user, 'root');
});

test('ssh config: a config file that is not there is no error', async () => {
  const file = setup('', 'defaults: { sshConfig: DIR/absent }\nhosts: { web1: {} }\n');
  const inv = await loadInventory(file);
  assert.equal(inv.hosts[0]?.address, 'web1');
});
