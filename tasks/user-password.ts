// ensureUser's password lock: a fact that says how an account's password stands without the
// hash ever leaving the host, and the usermod --lock/--unlock change.
import { defineFact, factEffect, sh, type Change, type Step } from 'fleetbook';

/**
 * usable: a hash; none: `*` (no password can match); empty: nothing (a login without password);
 * locked: `!` before a hash; lockedNone: `!` before no hash (useradd's default); nouser: no entry.
 */
export type PasswordState = 'usable' | 'none' | 'empty' | 'locked' | 'lockedNone' | 'nouser';

const STATES: readonly PasswordState[] = [
  'usable',
  'none',
  'empty',
  'locked',
  'lockedNone',
  'nouser',
];

/** How each account's password stands, read from /etc/shadow by awk: only the word leaves the host. */
export const passwordState = defineFact<string, PasswordState>({
  kind: 'passwordState',
  key: (name) => name,
  // A package's scripts may add accounts; they do not lock or unlock an existing one.
  changedByInstalls: 'accounts',
  script: (names) =>
    sh`awk -F: -v want=${names.join(' ')} 'BEGIN { n = split(want, u, " "); for (i = 1; i <= n; i++) s[u[i]] = "nouser" }
$1 in s { p = $2; l = sub(/^!+/, "", p); h = (p != "" && p !~ /^[*!]/); s[$1] = l ? (h ? "locked" : "lockedNone") : (h ? "usable" : (p == "" ? "empty" : "none")) }
END { for (i = 1; i <= n; i++) print u[i], s[u[i]] }' /etc/shadow`,
  parse: (stdout, names) => {
    const got = new Map(stdout.split('\n').map((l) => l.split(' ') as [string, string]));
    return names.map((n) => {
      const s = got.get(n);
      if (!STATES.includes(s as PasswordState))
        throw new Error(`passwordState: no state for ${n} in: ${stdout}`);
      return s as PasswordState;
    });
  },
});

/** The change that locks or unlocks `user`'s password, null when it already is, or a refusal. */
export function planLock(
  user: string,
  locked: boolean,
  now: PasswordState,
): Change | null | string {
  const isLocked = now === 'locked' || now === 'lockedNone';
  if (isLocked === locked) return null;
  if (!locked && now === 'lockedNone')
    return `user ${user}'s password is locked with no password behind it: unlocking would leave no password (set one first, or leave passwordLocked out)`;
  const flag = locked ? '--lock' : '--unlock';
  const back = locked ? '--unlock' : '--lock';
  // usermod refuses to unlock `!` into an empty password; passwd --delete gives that back.
  const undo: Step =
    now === 'empty'
      ? {
          op: 'run',
          describe: `passwd --delete ${user}`,
          script: sh`passwd --delete -- ${user} >/dev/null`,
        }
      : { op: 'run', describe: `usermod ${back} ${user}`, script: sh`usermod ${back} -- ${user}` };
  const after: PasswordState = locked ? (now === 'usable' ? 'locked' : 'lockedNone') : 'usable';
  return {
    summary: `${locked ? 'lock' : 'unlock'} the password of user ${user}`,
    diff: [
      {
        kind: 'attr',
        subject: `user ${user}`,
        field: 'password',
        before: isLocked ? 'locked' : 'unlocked',
        after: locked ? 'locked' : 'unlocked',
      },
    ],
    steps: [
      { op: 'run', describe: `usermod ${flag} ${user}`, script: sh`usermod ${flag} -- ${user}` },
    ],
    undo: [undo],
    effects: [factEffect(passwordState(user), after)],
  };
}
