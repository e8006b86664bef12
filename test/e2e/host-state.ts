// What "the host is as it was" means for rollback tests: a snapshot of everything a deployment can
// change, compared line by line.
import assert from 'node:assert/strict';
import { onHost } from './helpers.ts';

/**
 * Left out, each for a reason: fleetbook's own state directory (the run's backups and records,
 * kept on purpose); apt's index and its stamps (a cache an install refreshes) and its auto-marks
 * file (compared as the marks it holds); dpkg's database (compared as the package list; its -old
 * files are dpkg's own backups); the backups other tools keep of their own files by design:
 * shadow's `/etc/passwd-` and the like, ucf's rotated `registry.N` and `hashfile.N` (the live
 * files themselves are compared). String.raw keeps the shell's backslashes; ${'$'} writes the $
 * of dpkg-query's fields.
 */
const HOST_STATE = String.raw`set -eu
export LC_ALL=C
echo '## packages'
dpkg-query -W -f='${'$'}{Package}:${'$'}{Architecture} ${'$'}{Version} ${'$'}{Status}\n' | sort
echo '## automatically installed'
apt-mark showauto | sort
echo '## held'
apt-mark showhold | sort
echo '## unit files'
systemctl list-unit-files --no-legend --plain | sort
echo '## units'
systemctl list-units --all --no-legend --plain --type=service,socket,timer,path | awk '$1 !~ /^(user@|user-runtime-dir@|session-)/ {print $1, $2, $3, $4}' | sort
echo '## users'
getent passwd | sort
echo '## groups'
getent group | sort
fb_find() {
  find /etc /opt /srv /usr/local /var/opt /var/lib -xdev \
    \( -path /var/lib/fleetbook -o -path /var/lib/apt/lists -o -path /var/lib/apt/periodic \
       -o -path /var/lib/apt/extended_states -o -path /var/lib/dpkg \) -prune \
    -o \( -path '/etc/*-' -o -path '/var/lib/ucf/*.[0-9]*' \) -type f -prune -o "$@"
}
echo '## files'
fb_find -type l -printf '%p -> %l\n' -o -printf '%p %y %m %u:%g\n' | sort
echo '## contents'
fb_find -type f -print0 | xargs -0r sha256sum | sort -k2
`;

/**
 * Packages (dpkg status, automatic and held marks), unit files and units with their states, users
 * and groups, and the type, mode, owner and sha256 of every file under /etc, /opt, /srv,
 * /usr/local, /var/opt and /var/lib.
 */
export function hostState(host: string): Promise<string> {
  return onHost(host, HOST_STATE);
}

/** The two states are equal; if not, the message lists the lines only one of them has. */
export function assertSameState(host: string, before: string, after: string, what: string): void {
  if (before === after) return;
  const a = new Set(before.split('\n'));
  const b = new Set(after.split('\n'));
  const gone = [...a].filter((l) => !b.has(l)).map((l) => `- ${l}`);
  const added = [...b].filter((l) => !a.has(l)).map((l) => `+ ${l}`);
  assert.fail(
    `${host}: ${what} did not put the host back as it was (${gone.length} lines gone, ${added.length} new):\n${[...gone, ...added].slice(0, 200).join('\n')}`,
  );
}
