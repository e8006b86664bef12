// --list-hosts, --list-tasks, --list-tags and --syntax-check through the CLI. The inventory's
// hosts are TEST-NET addresses nobody answers on: these options must not connect to anything.
// Owns no lab host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleetbook } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fb-inspect-'));
const inventory = join(dir, 'staging.yaml');
writeFileSync(
  inventory,
  `environment: staging
defaults: { user: deploy, key: ${join(dir, 'no-such-key')} }
hosts:
  web1: { address: 192.0.2.10 }
  web2: { address: 192.0.2.11, port: 2222, vars: { workers: 4 } }
  db1: { address: 192.0.2.20 }
groups:
  web: { hosts: [web1, web2] }
`,
);
// Secrets of their own, so no state of another test file is read.
const env = {
  FLEETBOOK_SECRETS_DIR: join(dir, 'secrets'),
  FLEETBOOK_STATE_DIR: join(dir, 'state'),
};
const inspect = (...args: string[]) =>
  fleetbook(['run', 'test/e2e/playbooks/inspect.ts', '-i', inventory, ...args], env);

test('--list-hosts: the selected hosts with the connection a run would use, -u and -b applied', async () => {
  const r = await inspect('--list-hosts', '--limit', 'web');
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /\(environment staging\): 2 hosts\n {2}web1 +deploy@192\.0\.2\.10:22 +groups: web\n {2}web2 +deploy@192\.0\.2\.11:2222/,
  );
  assert.doesNotMatch(r.stdout, /db1/);
  const as = await inspect('--list-hosts', '-u', 'admin', '--limit', 'db1');
  assert.match(as.stdout, /db1 +admin@192\.0\.2\.20:22/);
});

test("--list-tasks: each host's tasks with tags and notify, hosts with the same list together, --tags applied", async () => {
  const r = await inspect('--list-tasks');
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    / {2}tasks on web1, web2:\n {4}ensureDir \/srv\/site {2}tags: files\n {4}copyFile \/srv\/site\/workers {2}tags: config {2}notify: restart site\n {4}web root \(ensureDir\)\n {2}handlers:\n {4}restart site \(serviceRestart\)/,
  );
  assert.match(
    r.stdout,
    / {2}tasks on db1:\n {4}ensureDir \/srv\/site {2}tags: files\n {4}copyFile/,
  );
  const tagged = await inspect('--list-tasks', '--tags', 'config', '--limit', 'db1');
  assert.match(tagged.stdout, /tasks on db1:\n {4}copyFile \/srv\/site\/workers/);
  assert.doesNotMatch(tagged.stdout, /ensureDir \/srv\/site/);
});

test('--list-tags', async () => {
  const r = await inspect('--list-tags');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\n {2}tags: config, files\n$/);
});

test('--syntax-check validates vars (with -e) and tasks without connecting, without keys and secrets', async () => {
  const r = await inspect('--syntax-check', '-e', '{"workers": 2}');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /syntax ok \(3 hosts, 8 tasks validated; nothing was contacted\)/);
  assert.match(
    r.stderr,
    /warning: secret api_token is not set for staging: a placeholder stood in/,
  );
  const bad = await inspect('--syntax-check', '-e', 'workers=two');
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    /^fleetbook: error: -e workers=\.\.\.: host web1: workers: expected .*integer.*key=value gives text/m,
  );
  const zero = await inspect('--syntax-check', '-e', '{"workers": 0}');
  assert.match(zero.stderr, /-e JSON: host web1: workers: expected .*>= 1/);
});

test('a usage error prints the error and a hint, not the whole help', async () => {
  const r = await fleetbook(['run', 'test/e2e/playbooks/inspect.ts', '-i', inventory, '--bogus']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "error: unknown option '--bogus'\n(add --help for usage)\n");
});

test('every command gives that hint, the added ones (exec, facts, secret, lab) and nested ones too', async () => {
  for (const [args, error] of [
    [['exec', '-i', inventory], "error: missing required argument 'command'"],
    [['facts'], "error: required option '-i, --inventory <file>' not specified"],
    [['secret', 'set'], "error: missing required argument 'environment'"],
    [['lab', 'status', '--bogus'], "error: unknown option '--bogus'"],
  ] as const) {
    const r = await fleetbook(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.stderr, `${error}\n(add --help for usage)\n`, args.join(' '));
  }
});
