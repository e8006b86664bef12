/**
 * The scripts the runner itself runs on a host to change files: write (atomic, verified), restore
 * (undo of a write) and pruning old backups. Pure builders, so they can be read and tested without
 * a host; src/runner/remote.ts runs them.
 */
import { raw, sh, type Script } from '../core/shell.ts';
import type { Step } from '../core/task.ts';

/**
 * The runner's directory on the host: /var/lib/fleetbook as root, else under the login user's
 * state directory (a run without become can still manage the user's own files and keep backups).
 */
export const STATE_ROOT = sh`if [ "$(id -u)" = 0 ]; then fb_root=/var/lib/fleetbook; else fb_root="\${XDG_STATE_HOME:-$HOME/.local/state}/fleetbook"; fi\n`;

/** Where a run keeps, on the host, the files it replaced (root-only, never copied to the controller). */
export const BACKUPS = '$fb_root/backups';
/** BACKUPS as shell code, for inside a double-quoted word. */
const BACKUPS_RAW = raw(BACKUPS);

/** A backup's id within the backups directory: `RUN_ID/ID`. */
export function backupId(runId: string, id: string): string {
  return `${runId}/${id}`;
}

/** `$bk`: where a backup goes, its run's directory made root-only first (as the backups one is). */
function backupPath(backup: string): Script {
  return sh`bk="${BACKUPS_RAW}"/${backup}
mkdir -p -m 0700 "$(dirname -- "$bk")"; chmod 0700 "${BACKUPS_RAW}" "$(dirname -- "$bk")"
`;
}

/** Marker lines the scripts print; never part of file content or command output we parse. */
export const MARK = {
  validateFailed: '@@fleetbook-validate-failed',
  torn: '@@fleetbook-torn',
} as const;

type WriteStep = Extract<Step, { op: 'write' }>;

/**
 * A private directory in "$d" (next to the target): same filesystem (so the final rename is
 * atomic) and the same SELinux context, and hidden one level down, so no include glob of the live
 * directory (`conf.d/*`, `sites-enabled/*.conf`) can pick up a half-made or unvalidated file. The
 * file keeps its own name inside it, so a validate command may look at its directory
 * (`postconf -c $(dirname %s)`).
 *
 * It is removed on any exit or signal, with the validate command's output beside it ("$t.out",
 * outside it, where no validator looking at the directory sees it). Its name is chosen and known
 * before it exists (mktemp would make it first and say its name after, a window a signal could
 * fall into), and both are listed in the session's $FB_PRIVATE, so even a script killed outright
 * (SIGKILL, 2 s after a TERM it did not end on) leaves nothing: the session removes them.
 */
const PRIVATE_DIR = sh`t=
trap '[ -z "$t" ] || rm -rf -- "$t" "$t.out"' EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; trap 'exit 143' TERM
fb_n=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
t="$d/.fleetbook-$fb_n"
[ -z "\${FB_PRIVATE:-}" ] || printf '%s\n' "$t" "$t.out" >> "$FB_PRIVATE"
mkdir -m 0700 -- "$t" || { t=; exit 1; }
tmp="$t/$(basename -- "$p")"
`;

/**
 * The private directory of a write killed outright (SIGKILL, a host that lost power) cannot remove
 * itself; the next write into the same directory removes any left an hour ago or more.
 */
const STALE_PRIVATE_DIRS = sh`find "$d" -maxdepth 1 -type d -name '.fleetbook-??????' -mmin +60 -exec rm -rf {} + 2>/dev/null || true\n`;

/**
 * Write a file atomically from stdin. Only when exactly `size` bytes with `sha256` arrived (a
 * dropped connection ends stdin early) is the file given its attributes, validated, the old one
 * saved for undo, and the new one renamed into place. Otherwise the live file stays as it was and
 * the private directory is removed.
 */
export function writeScript(step: WriteStep, size: number, sha256: string, backup: string): Script {
  const validate = validateSnippet(step);
  return sh`set -e
p=${step.path}
d=$(dirname -- "$p")
[ -d "$d" ] || { echo "directory $d does not exist" >&2; exit 2; }
${STATE_ROOT}${STALE_PRIVATE_DIRS}${PRIVATE_DIR}head -c ${size} > "$tmp" || true
got=$(wc -c < "$tmp"); sum=$(sha256sum < "$tmp" | cut -c1-64)
if [ "$got" != ${String(size)} ] || [ "$sum" != ${sha256} ]; then echo "${MARK.torn} $got of ${size} bytes arrived" >&2; exit 4; fi
chown -- ${`${step.owner}:${step.group}`} "$tmp"
chmod -- ${step.mode} "$tmp"
${validate}${backupPath(backup)}if [ -e "$p" ] || [ -L "$p" ]; then ln -P -- "$p" "$bk" 2>/dev/null || cp -a -- "$p" "$bk"; else : > "$bk.absent"; fi
mv -f -- "$tmp" "$p"
`;
}

/** The task author's validate command (shell code, `%s` the new file's path) run on `$tmp`. */
function validateSnippet(step: WriteStep): Script {
  return step.validate === undefined
    ? sh``
    : sh`if ! ( ${raw(step.validate.replace(/%s/g, '"$tmp"'))} ) >"$t.out" 2>&1; then cat "$t.out" >&2; rm -f "$t.out"; echo ${MARK.validateFailed} >&2; exit 3; fi; rm -f "$t.out"\n`;
}

/**
 * Check mode: the write's validate command on the new content, changing nothing. The content goes
 * to a private directory beside the target, as in a real write (a validate command may look at its
 * directory); when that directory does not exist yet, to one under /tmp. It is removed on exit.
 * Attributes are set where they can be (an owner an earlier task would create does not exist yet).
 */
export function validateScript(step: WriteStep, size: number, sha256: string): Script {
  return sh`set -e
p=${step.path}
d=$(dirname -- "$p")
[ -d "$d" ] || d=\${TMPDIR:-/tmp}
${PRIVATE_DIR}head -c ${size} > "$tmp" || true
got=$(wc -c < "$tmp"); sum=$(sha256sum < "$tmp" | cut -c1-64)
if [ "$got" != ${String(size)} ] || [ "$sum" != ${sha256} ]; then echo "${MARK.torn} $got of ${size} bytes arrived" >&2; exit 4; fi
chown -- ${`${step.owner}:${step.group}`} "$tmp" 2>/dev/null || true
chmod -- ${step.mode} "$tmp"
${validateSnippet(step)}`;
}

/**
 * A `remove` step: the file or tree is moved into the backups (never deleted), as its `backup` id
 * says; `mv` keeps bytes, mode, owner and mtime, across filesystems too. Prints `kept` or, when
 * there was nothing there, `absent`.
 */
export function removeScript(path: string, backup: string): Script {
  return sh`set -e
${STATE_ROOT}p=${path}
if [ ! -e "$p" ] && [ ! -L "$p" ]; then echo absent; exit 0; fi
${backupPath(backup)}mv -- "$p" "$bk"
echo kept
`;
}

/** Outcomes of restoreScript, one word on stdout. */
export type RestoreResult = 'restored' | 'removed' | 'unchanged' | 'left-alone' | 'no-backup';

/**
 * Undo of a write, decided on the host in one round trip. The file is put back (the saved inode
 * renamed into place, so bytes, mode, owner, mtime and hard links come back as they were) only if
 * it is still what the run wrote; a file changed since is left alone. A file the run created is
 * removed. A write that never landed leaves nothing to do. The undo of a `remove` step is one
 * too, its `written` being `absent`: the kept file or tree goes back, unless something is there now.
 * With `dry`, it only says what it would do (for `rollback --check`).
 */
export function restoreScript(
  path: string,
  backup: string | null,
  written: string,
  dry = false,
): Script {
  const act = (s: Script): Script => (dry ? sh`` : s);
  // Journals before backup ids were relative named the backup by absolute path, or null for a new file.
  const relative = backup !== null && !backup.startsWith('/');
  const bk =
    backup === null ? sh`bk=` : relative ? sh`bk="${BACKUPS_RAW}"/${backup}` : sh`bk=${backup}`;
  // A pruned run leaves a tombstone, so its missing backups are told from a write that never landed.
  const pruned = relative
    ? sh`[ ! -e "${BACKUPS_RAW}"/${`${backup.split('/')[0] ?? ''}.pruned`} ] || { echo no-backup; exit 0; }\n`
    : sh``;
  return sh`${STATE_ROOT}${bk}
p=${path}
${pruned}cur=absent; if [ -f "$p" ] && [ ! -L "$p" ]; then cur=$(sha256sum < "$p" | cut -c1-64); elif [ -e "$p" ] || [ -L "$p" ]; then cur=other; fi
if [ "$cur" != ${written} ]; then
  if [ -n "$bk" ] && [ -e "$bk.absent" ] && [ "$cur" = absent ]; then echo unchanged
  elif [ -n "$bk" ] && [ -f "$bk" ] && [ "$cur" = "$(sha256sum < "$bk" | cut -c1-64)" ]; then echo unchanged
  elif [ -n "$bk" ] && [ ! -e "$bk" ] && [ ! -e "$bk.absent" ]; then echo unchanged
  else echo left-alone; fi
  exit 0
fi
set -e
if [ -n "$bk" ] && { [ -e "$bk" ] || [ -L "$bk" ]; }; then
${act(sh`  d=$(dirname -- "$p")
  if [ "$(stat -c %d -- "$bk")" = "$(stat -c %d -- "$d")" ]; then mv -f -- "$bk" "$p"
  else ${PRIVATE_DIR}cp -a -- "$bk" "$tmp"; mv -f -- "$tmp" "$p"; fi
`)}  echo restored
elif [ -z "$bk" ] || [ -e "$bk.absent" ]; then ${act(sh`rm -f -- "$p"; rm -f -- "$bk.absent"; `)}echo removed
elif [ ${written} = absent ]; then echo unchanged
else echo no-backup; fi
`;
}

/**
 * Keep the backups of the newest `keep` runs on this host and remove older ones, leaving a
 * tombstone (RUN_ID.pruned) so a later rollback can say why they are gone. Run ids start with a
 * UTC timestamp, so they sort by time. Prints the run ids it removed, one per line.
 */
export function pruneScript(keep: number): Script {
  return sh`${STATE_ROOT}d="${BACKUPS_RAW}"
[ -d "$d" ] || exit 0
ls -1 -- "$d" | grep -v '[.]pruned$' | LC_ALL=C sort | head -n -${keep} | while IFS= read -r r; do rm -rf -- "$d/$r" && : > "$d/$r.pruned" && echo "$r"; done
`;
}
