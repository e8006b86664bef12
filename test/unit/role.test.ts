import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  definePlaybook,
  defineRole,
  ConfigError,
  Type,
  type HostFacts,
  type Task,
} from '../../src/index.ts';
import { command, ensureDir } from '../../tasks/index.ts';
import { resolveInventory } from '../../src/inventory/load.ts';
import { prepareHost } from '../../src/runner/prepare.ts';
import { base, motd } from '../fixtures/roles/motd/index.ts';
import { host, templatesDir } from './fixtures.ts';

// The project's templates are elsewhere: a role's template must not be looked up there.
process.env['FLEETBOOK_TEMPLATES'] = templatesDir;

const play = (tasks: Parameters<typeof definePlaybook>[0]['tasks'], handlers = []) =>
  definePlaybook({ name: 'roles', hosts: 'all', tasks, handlers }).contentsFor(host);
const titles = (ts: readonly Task[]) => ts.map((t) => t.title);
const paramsOf = (t: Task | undefined) => t?.params as Record<string, unknown>;

test('a role brings its dependencies, then its own tasks, titled with the role', () => {
  const { tasks, handlers } = play([motd({ message: 'hi' }), ensureDir({ path: '/srv' })]);
  assert.deepEqual(titles(tasks), [
    'base: ensureDir /etc/motd.d',
    'motd: templateFile /etc/motd.d/motd',
    'motd: copyFile /etc/motd.d/banner',
    'ensureDir /srv',
  ]);
  assert.deepEqual(titles(handlers), ['motd: reload motd', 'motd: restart news']);
  assert.deepEqual(
    tasks.map((t) => t.role),
    ['base', 'motd', 'motd', undefined],
  );
});

test('defaults fill what the user leaves out; what the user gives wins', () => {
  const { tasks } = play([motd({ message: 'hi', root: '/opt/motd', owner: 'daemon' })]);
  assert.deepEqual(titles(tasks), [
    'base: ensureDir /opt/motd',
    'motd: templateFile /opt/motd/motd',
    'motd: copyFile /opt/motd/banner',
  ]);
  assert.equal(paramsOf(tasks[2])['owner'], 'daemon');
  assert.equal(paramsOf(play([motd({ message: 'hi' })]).tasks[2])['owner'], 'root');
});

test('bad role vars are refused where the role is used, naming the role and the field', () => {
  assert.throws(
    () => motd({ message: '' }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.source.role === 'motd' &&
      /message/.test(e.message) &&
      e.describe().startsWith('role motd: '),
  );
  // @ts-expect-error: `colour` is not one of the role's vars
  assert.throws(() => motd({ message: 'x', colour: 'red' }), /colour/);
});

test('a role used twice with the same vars runs once; with other vars, twice', () => {
  const same = play([motd({ message: 'a' }), base({ root: '/etc/motd.d' })]);
  assert.equal(same.tasks.filter((t) => t.role === 'base').length, 1);
  const other = play([motd({ message: 'a' }), motd({ message: 'a', root: '/srv/motd' })]);
  assert.deepEqual(
    titles(other.tasks).filter((t) => t.startsWith('base')),
    ['base: ensureDir /etc/motd.d', 'base: ensureDir /srv/motd'],
  );
  // the same handler brought twice is one handler
  assert.deepEqual(titles(other.handlers), ['motd: reload motd', 'motd: restart news']);
});

test("a role's tasks notify its handlers by their short name, and the play knows them by the role's", () => {
  const tpl = play([motd({ message: 'hi' })]).tasks[1];
  assert.deepEqual(tpl?.options.notify, ['motd: reload motd']);
});

test('role tags reach every task the role brings, its dependencies included', () => {
  const { tasks } = play([motd({ message: 'hi' }, { tags: ['motd'] })]);
  assert.deepEqual(
    tasks.map((t) => t.options.tags),
    [['motd'], ['motd'], ['motd']],
  );
});

test('dependsOn cycles, a role among handlers and two roles of one name are errors', () => {
  const a: ReturnType<typeof defineRole> = defineRole({
    name: 'a',
    dependsOn: () => [b()],
    tasks: () => [],
  });
  const b: ReturnType<typeof defineRole> = defineRole({
    name: 'b',
    dependsOn: () => [a()],
    tasks: () => [],
  });
  assert.throws(() => play([a()]), /dependsOn: a cycle: a -> b -> a/);
  assert.throws(
    () =>
      definePlaybook({
        name: 'h',
        hosts: 'all',
        tasks: [],
        handlers: [base({ root: '/x' })],
      }).contentsFor(host),
    /handlers\[0\]: .*the role base \(a role belongs in a task list/,
  );
  const twin = defineRole({ name: 'base', tasks: () => [] });
  assert.throws(() => play([base({ root: '/x' }), twin()]), /two different roles have this name/);
  assert.throws(
    () => defineRole({ name: 'Bad Name', tasks: () => [] }),
    /name: expected lower case letters/,
  );
  // handlers depend on the host and vars: exports are checked when the role is expanded
  assert.throws(
    () => play([defineRole({ name: 'c', tasks: () => [], exports: ['nope'] })()]),
    /exports: no handler named "nope"/,
  );
});

const inv = resolveInventory(
  { environment: 'staging', hosts: { web1: { address: '192.0.2.10' } } },
  'inventories/staging.yaml',
);
const [web1] = inv.hosts;
if (web1 === undefined) throw new Error('the inventory has web1');
const prepare = (pb: ReturnType<typeof definePlaybook>) =>
  prepareHost(pb, 'playbooks/site.ts', inv, web1, {}, {});

test("a role's template and file come from the role's own directory, not the project's", async () => {
  const pb = definePlaybook({ name: 'p', hosts: 'all', tasks: [motd({ message: 'hello' })] });
  const prepared = await prepare(pb);
  const content = (i: number) =>
    (prepared.tasks[i]?.prepared as { content: string | Buffer }).content.toString();
  assert.equal(content(1), 'Welcome to web1: hello\n');
  assert.equal(content(2), 'authorised use only\n');
});

test("only a role's exported handlers can be notified from outside it", async () => {
  const outside = (name: string) =>
    definePlaybook({
      name: 'p',
      hosts: 'all',
      tasks: [motd({ message: 'hi' }), command({ run: 'true', always: true }, { notify: [name] })],
    });
  await prepare(outside('motd: restart news'));
  await assert.rejects(
    prepare(outside('motd: reload motd')),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message ===
        'notify: the handler "motd: reload motd" is private to the role motd (it is not in the role\'s exports) (handlers: "motd: restart news")',
  );
  await assert.rejects(prepare(outside('reload motd')), /notify: no handler named "reload motd"/);
});

test('a role without vars is called without arguments; its typed vars reach its tasks', () => {
  const typed = defineRole({
    name: 'typed',
    varsSchema: Type.Object({ port: Type.Integer(), name: Type.String() }),
    defaults: { port: 587 },
    tasks: (_h, v) => [ensureDir({ path: `/srv/${v.name}/${String(v.port)}` })],
  });
  assert.deepEqual(titles(play([typed({ name: 'mail' })]).tasks), [
    'typed: ensureDir /srv/mail/587',
  ]);
  // @ts-expect-error: `name` has no default
  assert.throws(() => typed({}), /name/);
  const plain = defineRole({ name: 'plain', tasks: () => [ensureDir({ path: '/p' })] });
  assert.deepEqual(titles(play([plain()]).tasks), ['plain: ensureDir /p']);
});

test('a role that reads host facts gets them, and is refused by a playbook that reads none', async () => {
  const named = defineRole({
    name: 'named',
    facts: true,
    tasks: (h) => [ensureDir({ path: `/srv/${h.facts.fqdn}` })],
  });
  const facts = JSON.parse(
    readFileSync(new URL('../fixtures/facts/debian12-nspawn.json', import.meta.url), 'utf8'),
  ) as HostFacts;
  const withFacts = definePlaybook({ name: 'p', hosts: 'all', facts: true, tasks: [named()] });
  assert.deepEqual(titles(withFacts.contentsFor({ ...host, facts }).tasks), [
    `named: ensureDir /srv/${facts.fqdn}`,
  ]);
  const without = definePlaybook({ name: 'p', hosts: 'all', tasks: [named()] });
  await assert.rejects(prepare(without), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(
      err.message,
      /the role reads host facts: the playbook that uses it must say `facts: true`/,
    );
    assert.deepEqual(
      [err.source.file, err.source.role, err.source.host],
      ['playbooks/site.ts', 'named', 'web1'],
    );
    return true;
  });
});
