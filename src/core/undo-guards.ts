/**
 * Common `onlyIf` checks for undo and afterUndo steps (see Step), so a rollback never leaves a
 * host half-removed: a step whose check fails is skipped, with the reason the check prints.
 *
 * Each runs after the runner's prelude (ONLY_IF_PRELUDE in src/runner/undo.ts), which defines
 * `fb_gone PATH`: true when PATH, or a directory above it, is taken away by an earlier step of
 * the same rollback. A real rollback has really taken them away (the list is empty); for
 * `rollback --check` it is what the earlier steps' `removes` and file restores say they would
 * take away, so the plan it shows is the one a real rollback follows.
 */
import { sh, type Script } from './shell.ts';

/** In a subshell, so guards compose by joining them: the first that fails ends the check. */
function guard(body: Script): Script {
  return sh`(\n${body}) || exit 1\n`;
}

/** The directory has nothing in it but what earlier undo steps take away (or does not exist). */
function emptyDir(path: string): Script {
  return guard(sh`d=${path}
[ -d "$d" ] || exit 0
fb_left=$(find "$d" -mindepth 1 -maxdepth 1 | while IFS= read -r e; do fb_gone "$e" || printf '%s\\n' "$e"; done)
[ -z "$fb_left" ] || { printf '%s is not empty: it holds %s\\n' "$d" "$(printf '%s\\n' "$fb_left" | head -n 3 | tr '\\n' ' ')"; exit 1; }
`);
}

/**
 * No file on the root filesystem has the user (or group), but what earlier undo steps take away
 * and what is under `except` (a home that `userdel --remove` takes with it). Runs' backups do not
 * count: they keep what was taken away as it was, owner included.
 */
function ownedBy(kind: 'user' | 'group', name: string, except: string): Script {
  const exists = kind === 'user' ? sh`id -u -- "$n"` : sh`getent group -- "$n"`;
  return guard(sh`n=${name}; x=${except}
${exists} >/dev/null 2>&1 || exit 0
fb_left=$(find / -xdev \\( -path /proc -o -path /sys -o -path /dev -o -path /var/lib/fleetbook -o -path "$x" \\) -prune -o -${kind} "$n" -print 2>/dev/null | while IFS= read -r e; do fb_gone "$e" || printf '%s\\n' "$e"; done)
[ -z "$fb_left" ] || { printf '%s %s still owns %s\\n' ${kind} "$n" "$(printf '%s\\n' "$fb_left" | head -n 3 | tr '\\n' ' ')"; exit 1; }
`);
}

/** The user owns no file left (see ownedBy). */
function ownsNothing(user: string, except = '/nonexistent'): Script {
  return ownedBy('user', user, except);
}

/** No file left has the group (see ownedBy). */
function groupOwnsNothing(group: string, except = '/nonexistent'): Script {
  return ownedBy('group', group, except);
}

/** No user that stays has the group as its primary group. */
function noPrimaryUsers(group: string): Script {
  return guard(sh`g=${group}
gid=$(getent group -- "$g" | cut -d: -f3)
[ -n "$gid" ] || exit 0
fb_left=$(getent passwd | awk -F: -v gid="$gid" '$4 == gid { print $1 }' | while IFS= read -r u; do fb_gone "user:$u" || printf '%s ' "$u"; done)
[ -z "$fb_left" ] || { printf 'group %s is still the primary group of %s\\n' "$g" "$fb_left"; exit 1; }
`);
}

/** The unit's file is still there: a restart replay of a unit the rollback removed is skipped. */
function unitPresent(unit: string): Script {
  return guard(sh`u=${unit}
f=$(systemctl show -P FragmentPath -- "$u" 2>/dev/null || true)
if [ -z "$f" ] || [ ! -e "$f" ] || fb_gone "$f"; then printf '%s is gone\\n' "$u"; exit 1; fi
`);
}

/** The path is still there. */
function present(path: string): Script {
  return guard(sh`p=${path}
if { [ ! -e "$p" ] && [ ! -L "$p" ]; } || fb_gone "$p"; then printf '%s is gone\\n' "$p"; exit 1; fi
`);
}

/** A `removes` script: prints the items, one per line (paths, `user:NAME`, `group:NAME`). */
function takes(...items: readonly string[]): Script {
  return sh`printf '%s\\n' ${items}\n`;
}

export const undoGuards = {
  emptyDir,
  ownsNothing,
  groupOwnsNothing,
  noPrimaryUsers,
  unitPresent,
  present,
  takes,
} as const;
