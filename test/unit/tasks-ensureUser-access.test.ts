// ensureUser's password lock and authorized keys: the pure key edit, the password fact's parser
// (from output captured on a lab host), and the plans, one case per row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Fact, FileFact, Plan } from '../../src/index.ts';
import { ensureUser, type EnsureUserParams } from '../../tasks/ensureUser.ts';
import { editKeys, keyIdentity } from '../../tasks/user-keys.ts';
import { passwordState, type PasswordState } from '../../tasks/user-password.ts';
import { absent, dir, file, group, noUser, planFrom, planRows, user } from './fixtures.ts';

const ED = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOpsA9vJ7Yt0QpPvYbWKyVgx3cF1mJqjYm3l6o5yqv0X';
const RSA = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7';
const OLD = 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY=';

test('keyIdentity: the key type and blob, past options with quoted spaces and a comment', () => {
  assert.equal(keyIdentity(`${ED} ann@laptop`), ED);
  assert.equal(keyIdentity(`from="10.0.0.1,10.0.0.2",command="echo a b" ${RSA} ci`), RSA);
  assert.equal(keyIdentity('# a comment'), null);
  assert.equal(keyIdentity(''), null);
});

const EDITS: readonly [string, string, readonly string[], boolean, string][] = [
  ['no file: the keys', '', [ED, RSA], false, `${ED}\n${RSA}\n`],
  ['a key there: kept, the new one appended', `${OLD} old\n`, [ED], false, `${OLD} old\n${ED}\n`],
  [
    'the same key with another comment and options: that line replaced, in place',
    `# team\n${ED} old-laptop\n${OLD}\n`,
    [`no-agent-forwarding ${ED} ann`],
    false,
    `# team\nno-agent-forwarding ${ED} ann\n${OLD}\n`,
  ],
  [
    'exclusive: exactly the keys, comments too are gone',
    `# team\n${OLD}\n${ED}\n`,
    [ED],
    true,
    `${ED}\n`,
  ],
  ['already there: unchanged', `${ED}\n`, [ED], false, `${ED}\n`],
  ['a last line without a newline gets one', OLD, [ED], false, `${OLD}\n${ED}\n`],
];

for (const [what, current, keys, exclusive, want] of EDITS)
  test(`editKeys: ${what}`, () => {
    assert.equal(editKeys(current, keys, exclusive), want);
  });

test('passwordState parses what a lab host printed (test/fixtures/custom-facts)', () => {
  const out = readFileSync('test/fixtures/custom-facts/passwordState.txt', 'utf8');
  const names = ['fbt1', 'fbt2', 'fbt3', 'fbt4', 'fbt5', 'root', 'nosuch'];
  assert.deepEqual(passwordState('x').def.parse(out, names), [
    'lockedNone',
    'lockedNone',
    'empty',
    'usable',
    'locked',
    'none',
    'nouser',
  ]);
  assert.throws(
    () => passwordState('x').def.parse('fbt1 lockedNone\n', ['fbt1', 'fbt2']),
    /no state for fbt2/,
  );
});

interface Host {
  readonly exists?: boolean;
  readonly password?: PasswordState;
  readonly keys?: string;
  readonly sshDir?: FileFact;
  /** The existing user's home, when not HOME. */
  readonly home?: string;
}

const HOME = '/home/deploy';

function plan(params: EnsureUserParams, h: Host): Plan {
  return planFrom(ensureUser(params), undefined, (q) => {
    if (q.kind === 'user')
      return h.exists === false
        ? noUser(q.name)
        : user(q.name, { uid: 1001, gid: 1001, home: h.home ?? HOME, shell: '/bin/bash' });
    if (q.kind === 'group') return group(q.name, { exists: h.exists !== false, gid: 1001 });
    if (q.kind === 'custom') return (h.password ?? 'usable') as unknown as Fact;
    if (q.kind === 'file' && q.path === HOME)
      return h.exists === false ? absent(q.path) : dir(q.path);
    if (q.kind === 'file' && q.path === `${HOME}/.ssh`)
      return h.sshDir ?? dir(q.path, { mode: '0700', owner: 'deploy', group: 'deploy' });
    if (q.kind === 'file' && q.path === `${HOME}/.ssh/authorized_keys`)
      return h.keys === undefined
        ? absent(q.path)
        : file(q.path, h.keys, { mode: '0600', owner: 'deploy', group: 'deploy' });
    return undefined;
  });
}

const U = { name: 'deploy', system: false } as const;
const ROWS: readonly [string, EnsureUserParams, Host, string | readonly string[]][] = [
  [
    'lock a usable password',
    { ...U, passwordLocked: true },
    { password: 'usable' },
    ['lock the password of user deploy | usermod --lock deploy | usermod --unlock deploy'],
  ],
  ['already locked', { ...U, passwordLocked: true }, { password: 'locked' }, 'ok'],
  [
    'lock an empty password: undo gives the empty one back',
    { ...U, passwordLocked: true },
    { password: 'empty' },
    ['lock the password of user deploy | usermod --lock deploy | passwd --delete deploy'],
  ],
  [
    'unlock a locked hash',
    { ...U, passwordLocked: false },
    { password: 'locked' },
    ['unlock the password of user deploy | usermod --unlock deploy | usermod --lock deploy'],
  ],
  [
    'unlock with nothing behind the lock: refused',
    { ...U, passwordLocked: false },
    { password: 'lockedNone' },
    "fail: user deploy's password is locked with no password behind it: unlocking would leave no password (set one first, or leave passwordLocked out)",
  ],
  [
    'a new user is locked by useradd already',
    { ...U, passwordLocked: true },
    { exists: false },
    [
      'create user deploy | groupadd deploy; useradd deploy | userdel --remove deploy; groupdel deploy',
    ],
  ],
  [
    'keys for a new user: .ssh then the file, after useradd',
    { ...U, authorizedKeys: [ED] },
    { exists: false, sshDir: absent(`${HOME}/.ssh`) },
    [
      'create user deploy | groupadd deploy; useradd deploy | userdel --remove deploy; groupdel deploy',
      `create directory ${HOME}/.ssh (0700 deploy:deploy) | mkdir ${HOME}/.ssh | rmdir ${HOME}/.ssh`,
      `create file ${HOME}/.ssh/authorized_keys (0600 deploy:deploy) | write ${HOME}/.ssh/authorized_keys | `,
    ],
  ],
  ['keys already there', { ...U, authorizedKeys: [ED] }, { keys: `${OLD}\n${ED}\n` }, 'ok'],
  [
    'exclusive: the other key goes',
    { ...U, authorizedKeys: [ED], exclusiveKeys: true },
    { keys: `${OLD}\n${ED}\n` },
    [
      `update file ${HOME}/.ssh/authorized_keys (0600 deploy:deploy) | write ${HOME}/.ssh/authorized_keys | `,
    ],
  ],
  [
    '.ssh with a loose mode is tightened',
    { ...U, authorizedKeys: [ED] },
    {
      keys: `${ED}\n`,
      sshDir: dir(`${HOME}/.ssh`, { mode: '0755', owner: 'deploy', group: 'deploy' }),
    },
    [`set mode of directory ${HOME}/.ssh | chmod 0700 ${HOME}/.ssh | chmod 0755 ${HOME}/.ssh`],
  ],
  [
    'an existing user whose home is elsewhere: refused, naming it',
    { ...U, authorizedKeys: [ED] },
    { home: '/srv/deploy' },
    "fail: user deploy's home is /srv/deploy, not /home/deploy: give home: /srv/deploy for its authorizedKeys",
  ],
];

for (const [what, params, h, want] of ROWS)
  test(`ensureUser access: ${what}`, (t) => {
    const got = planRows(plan(params, h));
    t.diagnostic(JSON.stringify(got));
    assert.deepEqual(got, want);
  });

test('ensureUser access: params are checked before any host', () => {
  assert.throws(
    () => ensureUser({ name: 'deploy', exclusiveKeys: true }),
    /authorizedKeys: required when exclusiveKeys is true/,
  );
  assert.throws(
    () => ensureUser({ name: 'svc', authorizedKeys: [ED] }),
    /authorizedKeys: a system user's home defaults to \/nonexistent, which cannot hold keys: give home/,
  );
  assert.throws(
    () => ensureUser({ name: 'deploy', system: false, authorizedKeys: ['not a key'] }),
    /authorizedKeys\.0: expected one authorized_keys line/,
  );
});
