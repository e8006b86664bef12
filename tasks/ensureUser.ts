import {
  ConfigError,
  defineTask,
  fact,
  sh,
  Type,
  type Change,
  type DiffPart,
  type Effect,
  type FactQuery,
  type FileFact,
  type GroupFact,
  type Plan,
  type Static,
  type Step,
  type UserFact,
  undoGuards,
  AbsPath,
  AccountName,
} from 'fleetbook';
import { AuthorizedKey, keysFileOf, planKeys, sshDirOf } from './user-keys.ts';
import { passwordState, planLock, type PasswordState } from './user-password.ts';

const Params = Type.Object(
  {
    name: AccountName,
    system: Type.Optional(
      Type.Boolean({
        default: true,
        doc: 'A system account (uid below 1000, no password aging): most accounts a playbook makes run services.',
      }),
    ),
    home: Type.Optional({
      ...AbsPath,
      doc: 'Home directory. Default: /nonexistent (not created) for system users, /home/NAME for others.',
    }),
    shell: Type.Optional({
      ...AbsPath,
      doc: 'Login shell. Default: /usr/sbin/nologin for system users, /bin/bash for others.',
    }),
    group: Type.Optional({
      ...AccountName,
      doc: 'Primary group, created if missing. Default: a group named like the user.',
    }),
    groups: Type.Optional(
      Type.Array(AccountName, {
        uniqueItems: true,
        doc: 'Supplementary groups (must exist). The user is added to them; other memberships are left alone.',
      }),
    ),
    passwordLocked: Type.Optional(
      Type.Boolean({
        doc: 'true: the password is locked (usermod --lock; key logins still work). false: a locked password is unlocked. Left out: left as it is. The hash is never read off the host, only whether it is locked.',
      }),
    ),
    authorizedKeys: Type.Optional(
      Type.Array(AuthorizedKey, {
        uniqueItems: true,
        doc: "Public keys the user may log in with, in HOME/.ssh/authorized_keys (0600, the .ssh directory 0700, both the user's). A line with the same key is replaced (its options or comment changed); other lines are kept, unless exclusiveKeys.",
      }),
    ),
    exclusiveKeys: Type.Optional(
      Type.Boolean({
        default: false,
        doc: 'authorized_keys holds exactly authorizedKeys: any other key is removed (kept in the backups for undo).',
      }),
    ),
  },
  {
    additionalProperties: false,
    doc: 'A user account and its primary group, optionally its locked password and its SSH keys.',
  },
);
export type EnsureUserParams = Static<typeof Params>;

const NO_HOME = '/nonexistent';
const NEED_USERADD = sh`command -v useradd >/dev/null 2>&1 || { echo 'useradd not found: install the passwd package' >&2; exit 127; }`;

interface Wanted {
  readonly name: string;
  readonly system: boolean;
  readonly home: string;
  readonly shell: string;
  readonly group: string;
  readonly groups: readonly string[];
}

function wanted(p: EnsureUserParams): Wanted {
  const system = p.system ?? true;
  return {
    name: p.name,
    system,
    home: p.home ?? (system ? NO_HOME : `/home/${p.name}`),
    shell: p.shell ?? (system ? '/usr/sbin/nologin' : '/bin/bash'),
    group: p.group ?? p.name,
    // The primary group is not also a supplementary one.
    groups: (p.groups ?? []).filter((g) => g !== (p.group ?? p.name)),
  };
}

/** Members of each group listed in /etc/group content (`name:x:gid:a,b`). */
function members(etcGroup: FileFact | undefined): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const text = etcGroup?.content?.toString('utf8') ?? '';
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || f[0] === undefined) continue;
    out.set(f[0], new Set((f[3] ?? '').split(',').filter((m) => m !== '')));
  }
  return out;
}

function createGroupChange(w: Wanted): { diff: DiffPart; step: Step; undo: Step; effect: Effect } {
  return {
    diff: { kind: 'item', sign: '+', text: `group ${w.group}${w.system ? ' (system)' : ''}` },
    step: {
      op: 'run',
      describe: `groupadd ${w.group}`,
      script: sh`groupadd ${w.system ? ['--system'] : []} -- ${w.group}`,
    },
    // userdel already removes a same-named primary group left without members (USERGROUPS_ENAB).
    undo: {
      op: 'run',
      describe: `groupdel ${w.group}`,
      script: sh`if getent group ${w.group} >/dev/null; then groupdel -- ${w.group}; fi`,
      onlyIf: sh`${undoGuards.noPrimaryUsers(w.group)}${undoGuards.groupOwnsNothing(w.group)}`,
      removes: undoGuards.takes(`group:${w.group}`),
    },
    effect: { kind: 'group', fact: { name: w.group, exists: true, gid: null } },
  };
}

/**
 * userdel only when the user owns no file left, nor its same-named group (which userdel removes
 * with it when no one else is in it).
 */
function userdelGuard(w: Wanted, home?: string) {
  const own = undoGuards.ownsNothing(w.name, home);
  return w.group === w.name ? sh`${own}${undoGuards.groupOwnsNothing(w.group, home)}` : own;
}

function createUser(w: Wanted, home: FileFact, group: GroupFact): Change {
  const diff: DiffPart[] = [];
  const steps: Step[] = [];
  const undo: Step[] = [];
  const effects: Effect[] = [];
  let groupUndo: Step | undefined;
  if (!group.exists) {
    const g = createGroupChange(w);
    diff.push(g.diff);
    steps.push(g.step);
    groupUndo = g.undo;
    effects.push(g.effect);
  }
  // A system user's home gets no skeleton dotfiles (it is usually the app's directory); a person's does.
  const makeHome = w.home !== NO_HOME && !home.exists;
  const skel = makeHome && !w.system;
  const args = [
    ...(w.system ? ['--system'] : []),
    '--gid',
    w.group,
    '--home-dir',
    w.home,
    '--shell',
    w.shell,
    skel ? '--create-home' : '--no-create-home',
    ...(w.groups.length > 0 ? ['--groups', w.groups.join(',')] : []),
    w.name,
  ];
  const details = [
    w.system ? 'system' : 'regular',
    `home ${w.home}`,
    `shell ${w.shell}`,
    `group ${w.group}`,
  ];
  if (w.groups.length > 0) details.push(`groups ${w.groups.join(',')}`);
  diff.push({ kind: 'item', sign: '+', text: `user ${w.name} (${details.join(', ')})` });
  steps.push({
    op: 'run',
    describe: `useradd ${w.name}`,
    script: sh`${NEED_USERADD}\nuseradd ${args}`,
  });
  if (makeHome && w.system) {
    diff.push({ kind: 'item', sign: '+', text: `directory ${w.home} (0755 ${w.name}:${w.group})` });
    steps.push({
      op: 'run',
      describe: `create home ${w.home}`,
      script: sh`install -d -m 0755 -o ${w.name} -g ${w.group} -- ${w.home}`,
    });
  }
  // The home first (rmdir, not rm -r: only if nothing was put in it since), then the user (only if
  // it owns no file left), then its group (only if no user left has it as primary group): each is
  // skipped when the one before was, so a rollback never leaves files owned by a deleted user.
  if (skel) {
    // The skeleton dotfiles go with the home: userdel --remove.
    undo.push({
      op: 'run',
      describe: `userdel --remove ${w.name}`,
      script: sh`userdel --remove -- ${w.name}`,
      onlyIf: userdelGuard(w, w.home),
      removes: undoGuards.takes(`user:${w.name}`, w.home),
    });
  } else {
    if (makeHome)
      undo.push({
        op: 'run',
        describe: `rmdir ${w.home}`,
        script: sh`[ ! -d ${w.home} ] || rmdir -- ${w.home}`,
        onlyIf: undoGuards.emptyDir(w.home),
        removes: undoGuards.takes(w.home),
      });
    undo.push({
      op: 'run',
      describe: `userdel ${w.name}`,
      script: sh`userdel -- ${w.name}`,
      onlyIf: userdelGuard(w),
      removes: undoGuards.takes(`user:${w.name}`),
    });
  }
  if (groupUndo !== undefined) undo.push(groupUndo);
  effects.push({
    kind: 'user',
    fact: { name: w.name, exists: true, uid: null, gid: group.gid, home: w.home, shell: w.shell },
  });
  if (makeHome) {
    effects.push({
      kind: 'file',
      fact: {
        path: w.home,
        exists: true,
        type: 'directory',
        // useradd --create-home takes the mode from login.defs, which the probe did not read.
        mode: skel ? null : '0755',
        owner: w.name,
        group: w.group,
        size: null,
        sha256: null,
        mtime: null,
      },
    });
  }
  return {
    summary: `create ${w.system ? 'system ' : ''}user ${w.name}`,
    diff,
    steps,
    undo,
    effects,
  };
}

function updateUser(
  p: EnsureUserParams,
  w: Wanted,
  user: UserFact,
  group: GroupFact,
  memberOf: Map<string, Set<string>>,
): Change | null {
  const diff: DiffPart[] = [];
  const steps: Step[] = [];
  const undo: Step[] = [];
  const effects: Effect[] = [];
  const subject = `user ${w.name}`;
  const usermod = (flag: string, value: string) => sh`usermod ${flag} ${value} -- ${w.name}`;
  // Only attributes the params name are converged; defaults apply when creating a user, never to an existing one.
  let shell = user.shell;
  if (p.shell !== undefined && user.shell !== p.shell) {
    diff.push({ kind: 'attr', subject, field: 'shell', before: user.shell ?? '?', after: p.shell });
    steps.push({
      op: 'run',
      describe: `usermod --shell ${p.shell} ${w.name}`,
      script: usermod('--shell', p.shell),
    });
    undo.push({
      op: 'run',
      describe: `usermod --shell ${user.shell ?? ''} ${w.name}`,
      script: usermod('--shell', user.shell ?? ''),
    });
    shell = p.shell;
  }
  let home = user.home;
  if (p.home !== undefined && user.home !== p.home) {
    // Not --move-home: moving data is a migration, not a setting.
    diff.push({ kind: 'attr', subject, field: 'home', before: user.home ?? '?', after: p.home });
    steps.push({
      op: 'run',
      describe: `usermod --home ${p.home} ${w.name}`,
      script: usermod('--home', p.home),
    });
    undo.push({
      op: 'run',
      describe: `usermod --home ${user.home ?? ''} ${w.name}`,
      script: usermod('--home', user.home ?? ''),
    });
    home = p.home;
  }
  let gid = user.gid;
  if (p.group !== undefined && (!group.exists || group.gid !== user.gid)) {
    if (!group.exists) {
      const g = createGroupChange(w);
      diff.push(g.diff);
      steps.push(g.step);
      effects.push(g.effect);
      // Runs after the usermod --gid undo below (undo is built in reverse, see the end).
      undo.push(g.undo);
    }
    diff.push({
      kind: 'attr',
      subject,
      field: 'group',
      before: user.gid === null ? '?' : `gid ${user.gid}`,
      after: w.group,
    });
    steps.push({
      op: 'run',
      describe: `usermod --gid ${w.group} ${w.name}`,
      script: usermod('--gid', w.group),
    });
    undo.push({
      op: 'run',
      describe: `usermod --gid ${user.gid ?? ''} ${w.name}`,
      script: usermod('--gid', String(user.gid ?? '')),
    });
    gid = group.gid;
  }
  const joins = w.groups.filter((g) => memberOf.get(g)?.has(w.name) !== true);
  if (joins.length > 0) {
    for (const g of joins) diff.push({ kind: 'item', sign: '+', text: `${w.name} in group ${g}` });
    steps.push({
      op: 'run',
      describe: `usermod --append --groups ${joins.join(',')} ${w.name}`,
      script: sh`usermod --append --groups ${joins.join(',')} -- ${w.name}`,
    });
    for (const g of joins)
      undo.push({
        op: 'run',
        describe: `gpasswd --delete ${w.name} ${g}`,
        script: sh`gpasswd --delete ${w.name} ${g} >/dev/null`,
      });
  }
  if (steps.length === 0) return null;
  effects.push({ kind: 'user', fact: { ...user, shell, home, gid } });
  const fields = diff.map((d) =>
    d.kind === 'attr'
      ? d.field
      : d.kind === 'item' && d.text.startsWith('group ')
        ? 'new group'
        : 'groups',
  );
  return {
    summary: `update user ${w.name} (${[...new Set(fields)].join(', ')})`,
    diff,
    steps,
    undo: undo.reverse(),
    effects,
  };
}

/** What a later task reads of a user (withResult), besides `changed`. */
export interface EnsureUserResult {
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

/**
 * A local user account (useradd/usermod, from the passwd package that every Debian system has).
 * Creates its primary group when missing; adds it to supplementary groups without removing others.
 */
export const ensureUser = defineTask({
  type: 'ensureUser',
  params: Params,
  rules: [{ when: 'exclusiveKeys', is: [true], require: ['authorizedKeys'] }],
  check: (p) => {
    if (p.authorizedKeys !== undefined && wanted(p).home === NO_HOME)
      throw new ConfigError(
        `authorizedKeys: a system user's home defaults to ${NO_HOME}, which cannot hold keys: give home`,
        { task: `ensureUser "${p.name}"`, field: 'authorizedKeys' },
      );
  },
  describe: (p) => p.name,
  probe: (p) => {
    const w = wanted(p);
    const spec: Record<string, FactQuery> = {
      user: fact.user(w.name),
      group: fact.group(w.group),
      home: fact.file(w.home),
    };
    for (const g of w.groups) spec[`group:${g}`] = fact.group(g);
    // Membership is not part of the user or group facts; /etc/group has it (and no secrets).
    if (w.groups.length > 0) spec.etcGroup = fact.file('/etc/group', 'content');
    if (p.passwordLocked !== undefined) spec.password = passwordState(w.name);
    if (p.authorizedKeys !== undefined) {
      spec.sshDir = fact.file(sshDirOf(w.home));
      spec.keys = fact.file(keysFileOf(w.home), 'content');
    }
    return spec;
  },
  // The account as the host has it after the task. A user check mode would create has no uid yet.
  result: (_p, got): EnsureUserResult | undefined => {
    const user = got.facts?.user as UserFact | undefined;
    if (user?.uid == null || user.gid === null || user.home === null) return undefined;
    return { uid: user.uid, gid: user.gid, home: user.home };
  },
  plan: (p, facts, _prepared, ctx) => {
    const w = wanted(p);
    const user = facts.user as UserFact;
    const group = facts.group as GroupFact;
    const missing = w.groups.filter(
      (g) => (facts[`group:${g}`] as GroupFact | undefined)?.exists !== true,
    );
    if (missing.length > 0) {
      return {
        status: 'fail',
        message: `supplementary group${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of user ${w.name} ${missing.length > 1 ? 'do' : 'does'} not exist on this host (create ${missing.length > 1 ? 'them' : 'it'} in an earlier task, or install the package that does)`,
      };
    }
    if (!user.exists) {
      const home = facts.home as FileFact;
      if (home.exists && home.type !== 'directory') {
        return {
          status: 'fail',
          message: `home ${w.home} of user ${w.name} exists and is a ${home.type ?? 'special file'}, not a directory`,
        };
      }
      return withAccess(p, w, facts, ctx.host.name, [createUser(w, home, group)]);
    }
    const change = updateUser(p, w, user, group, members(facts.etcGroup as FileFact | undefined));
    return withAccess(p, w, facts, ctx.host.name, change === null ? [] : [change]);
  },
});

/** The account's changes, then its password lock and its keys: the plan, or why not. */
function withAccess(
  p: EnsureUserParams,
  w: Wanted,
  facts: Readonly<Record<string, unknown>>,
  host: string,
  account: Change[],
): Plan {
  const user = facts.user as UserFact;
  const changes = [...account];
  if (p.passwordLocked !== undefined) {
    // useradd leaves a new account's password locked, with no password behind it.
    const now = user.exists ? (facts.password as PasswordState) : 'lockedNone';
    const lock = planLock(w.name, p.passwordLocked, now);
    if (typeof lock === 'string') return { status: 'fail', message: lock };
    if (lock !== null) changes.push(lock);
  }
  if (p.authorizedKeys !== undefined) {
    const refused = keysRefused(p, w, facts);
    if (refused !== null) return { status: 'fail', message: refused };
    changes.push(
      ...planKeys(
        host,
        { ...w, user: w.name, keys: p.authorizedKeys, exclusive: p.exclusiveKeys ?? false },
        facts.sshDir as FileFact,
        facts.keys as FileFact,
      ),
    );
  }
  return changes.length === 0 ? { status: 'ok' } : { status: 'change', changes };
}

/** Why the keys cannot go where the probe read them, or null. */
function keysRefused(
  p: EnsureUserParams,
  w: Wanted,
  facts: Readonly<Record<string, unknown>>,
): string | null {
  const user = facts.user as UserFact;
  const group = facts.group as GroupFact;
  const home = facts.home as FileFact;
  if (!user.exists) return null;
  if (p.home === undefined && user.home !== w.home)
    return `user ${w.name}'s home is ${user.home ?? '?'}, not ${w.home}: give home: ${user.home ?? '?'} for its authorizedKeys`;
  if (p.group === undefined && group.gid !== user.gid)
    return `user ${w.name}'s primary group is gid ${user.gid ?? '?'}, not group ${w.group}: give group for its authorizedKeys`;
  if (!home.exists || home.type !== 'directory')
    return `home ${w.home} of user ${w.name} is not a directory: its authorizedKeys have nowhere to go`;
  return null;
}
