import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change, Plan, Step, UserFact } from '../../src/index.ts';
import { ensureUser } from '../../tasks/ensureUser.ts';
import { absent, dir, file, group, noUser, planFrom, user } from './fixtures.ts';

interface HostState {
  users?: Record<string, Partial<UserFact>>;
  groups?: Record<string, number>;
  dirs?: string[];
  etcGroup?: string;
}

function plan(params: Parameters<typeof ensureUser>[0], state: HostState = {}): Plan {
  return planFrom(ensureUser(params), undefined, (q) => {
    if (q.kind === 'user') {
      const u = state.users?.[q.name];
      return u === undefined
        ? noUser(q.name)
        : user(q.name, {
            uid: 999,
            gid: 999,
            home: '/nonexistent',
            shell: '/usr/sbin/nologin',
            ...u,
          });
    }
    if (q.kind === 'group') {
      const gid = state.groups?.[q.name];
      return group(q.name, { exists: gid !== undefined, gid: gid ?? null });
    }
    if (q.kind === 'file' && q.path === '/etc/group')
      return file(q.path, state.etcGroup ?? '', { sha256: 'x' });
    if (q.kind === 'file')
      return state.dirs?.includes(q.path) === true ? dir(q.path, { size: 1 }) : absent(q.path);
    return undefined;
  });
}

function onlyChange(p: Plan): Change {
  assert.equal(p.status, 'change', JSON.stringify(p));
  if (p.status !== 'change' || p.changes.length !== 1) throw new Error('expected one change');
  return p.changes[0] as Change;
}
const scripts = (steps: readonly Step[]) =>
  steps.map((s) => (s.op === 'run' ? s.script.text.split('\n').pop() : `write ${s.path}`));

test('params are checked when the task is built', () => {
  assert.throws(
    // @ts-expect-error a misspelled parameter must not compile (and fails validation at run time)
    () => ensureUser({ name: 'app', shel: '/bin/sh' }),
    /shel: unknown field \(did you mean "shell"\?\)/,
  );
  assert.throws(
    () => ensureUser({ name: 'App User' }),
    /name: expected a user or group name, got "App User"/,
  );
  assert.throws(
    // @ts-expect-error groups is a list
    () => ensureUser({ name: 'app', groups: 'www-data' }),
    /groups: expected value that must be array, got "www-data"/,
  );
});

test('new system user, group missing: groupadd, useradd, no home; undo in reverse', () => {
  const c = onlyChange(plan({ name: 'app' }));
  assert.equal(c.summary, 'create system user app');
  assert.deepEqual(c.diff, [
    { kind: 'item', sign: '+', text: 'group app (system)' },
    {
      kind: 'item',
      sign: '+',
      text: 'user app (system, home /nonexistent, shell /usr/sbin/nologin, group app)',
    },
  ]);
  assert.deepEqual(scripts(c.steps), [
    'groupadd --system -- app',
    'useradd --system --gid app --home-dir /nonexistent --shell /usr/sbin/nologin --no-create-home app',
  ]);
  assert.match(
    c.steps[1]?.op === 'run' ? c.steps[1].script.text : '',
    /command -v useradd .* install the passwd package/,
  );
  assert.deepEqual(scripts(c.undo), [
    'userdel -- app',
    'if getent group app >/dev/null; then groupdel -- app; fi',
  ]);
  assert.deepEqual(c.effects, [
    { kind: 'group', fact: { name: 'app', exists: true, gid: null } },
    {
      kind: 'user',
      fact: {
        name: 'app',
        exists: true,
        uid: null,
        gid: null,
        home: '/nonexistent',
        shell: '/usr/sbin/nologin',
      },
    },
  ]);
});

test('new system user with a home that does not exist: created 0755 without skeleton files', () => {
  const c = onlyChange(
    plan(
      { name: 'app', home: '/srv/app', groups: ['www-data'] },
      { groups: { app: 1001, 'www-data': 33 } },
    ),
  );
  assert.deepEqual(scripts(c.steps), [
    'useradd --system --gid app --home-dir /srv/app --shell /usr/sbin/nologin --no-create-home --groups www-data app',
    'install -d -m 0755 -o app -g app -- /srv/app',
  ]);
  // The home first, then the user, each only if nothing is left (see the rollback guard test).
  assert.deepEqual(scripts(c.undo), ['[ ! -d /srv/app ] || rmdir -- /srv/app', 'userdel -- app']);
  const home = c.effects.find((e) => e.kind === 'file');
  assert.deepEqual(
    home?.kind === 'file' && {
      owner: home.fact.owner,
      group: home.fact.group,
      mode: home.fact.mode,
      type: home.fact.type,
    },
    { owner: 'app', group: 'app', mode: '0755', type: 'directory' },
  );
  const user = c.effects.find((e) => e.kind === 'user');
  assert.equal(user?.kind === 'user' && user.fact.gid, 1001);
});

test('home that already exists is left as it is', () => {
  const c = onlyChange(
    plan({ name: 'app', home: '/srv/app' }, { groups: { app: 1001 }, dirs: ['/srv/app'] }),
  );
  assert.deepEqual(scripts(c.steps), [
    'useradd --system --gid app --home-dir /srv/app --shell /usr/sbin/nologin --no-create-home app',
  ]);
  assert.deepEqual(scripts(c.undo), ['userdel -- app']);
});

test('a regular user gets /home/NAME with skeleton files and bash; undo removes it', () => {
  const c = onlyChange(
    plan({ name: 'alice', system: false, group: 'staff' }, { groups: { staff: 50 } }),
  );
  assert.equal(c.summary, 'create user alice');
  assert.deepEqual(scripts(c.steps), [
    'useradd --gid staff --home-dir /home/alice --shell /bin/bash --create-home alice',
  ]);
  assert.deepEqual(scripts(c.undo), ['userdel --remove -- alice']);
});

test('existing user that matches -> ok; defaults never change an existing user', () => {
  assert.deepEqual(
    plan({ name: 'app', shell: '/usr/sbin/nologin' }, { users: { app: {} }, groups: { app: 999 } }),
    { status: 'ok' },
  );
  // shell not given: an existing user's /bin/bash is left alone even though the default is nologin
  assert.deepEqual(
    plan({ name: 'app' }, { users: { app: { shell: '/bin/bash' } }, groups: { app: 999 } }),
    { status: 'ok' },
  );
});

test('existing user with another shell and home -> usermod, old values as undo', () => {
  const c = onlyChange(
    plan(
      { name: 'app', shell: '/bin/sh', home: '/srv/app' },
      { users: { app: {} }, groups: { app: 999 } },
    ),
  );
  assert.equal(c.summary, 'update user app (shell, home)');
  assert.deepEqual(c.diff, [
    {
      kind: 'attr',
      subject: 'user app',
      field: 'shell',
      before: '/usr/sbin/nologin',
      after: '/bin/sh',
    },
    { kind: 'attr', subject: 'user app', field: 'home', before: '/nonexistent', after: '/srv/app' },
  ]);
  assert.deepEqual(scripts(c.steps), [
    'usermod --shell /bin/sh -- app',
    'usermod --home /srv/app -- app',
  ]);
  assert.deepEqual(scripts(c.undo), [
    'usermod --home /nonexistent -- app',
    'usermod --shell /usr/sbin/nologin -- app',
  ]);
  assert.deepEqual(c.effects, [
    {
      kind: 'user',
      fact: { name: 'app', exists: true, uid: 999, gid: 999, home: '/srv/app', shell: '/bin/sh' },
    },
  ]);
});

test('supplementary groups: added when missing from /etc/group, ok when present', () => {
  const state: HostState = {
    users: { app: {} },
    groups: { app: 999, 'www-data': 33, adm: 4 },
    etcGroup: 'adm:x:4:syslog,app\nwww-data:x:33:\napp:x:999:\n',
  };
  const c = onlyChange(plan({ name: 'app', groups: ['adm', 'www-data'] }, state));
  assert.deepEqual(c.diff, [{ kind: 'item', sign: '+', text: 'app in group www-data' }]);
  assert.deepEqual(scripts(c.steps), ['usermod --append --groups www-data -- app']);
  assert.deepEqual(scripts(c.undo), ['gpasswd --delete app www-data >/dev/null']);
  assert.deepEqual(plan({ name: 'app', groups: ['adm'] }, state), { status: 'ok' });
});

test('a supplementary group that does not exist -> fail', () => {
  assert.deepEqual(
    plan({ name: 'app', groups: ['docker', 'www-data'] }, { groups: { 'www-data': 33 } }),
    {
      status: 'fail',
      message:
        'supplementary group docker of user app does not exist on this host (create it in an earlier task, or install the package that does)',
    },
  );
});

test('explicit primary group that differs -> usermod --gid, created first if missing', () => {
  const c = onlyChange(
    plan({ name: 'app', group: 'apps' }, { users: { app: { gid: 999 } }, groups: {} }),
  );
  assert.deepEqual(scripts(c.steps), ['groupadd --system -- apps', 'usermod --gid apps -- app']);
  assert.deepEqual(scripts(c.undo), [
    'usermod --gid 999 -- app',
    'if getent group apps >/dev/null; then groupdel -- apps; fi',
  ]);
});
