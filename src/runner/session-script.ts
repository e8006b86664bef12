/**
 * The host side of a host session: one /bin/sh per host and run, started once (as root through
 * `sudo -n` when the inventory says become), that runs the controller's scripts one at a time.
 *
 * Protocol, on the command's stdin and stdout:
 * - controller: `SCRIPT_BYTES PAYLOAD_BYTES\n`, the script, then the payload (the script's stdin).
 *   While a script runs, the line `kill\n` stops it (its whole process group).
 * - host: `@@fbs ready\n` once the host lock is held, or `@@fbs busy WHO\n` (and exit 75) if it
 *   is not free in time; after each script `@@fbs done RC OUT_BYTES ERR_BYTES\n`, its stdout, its
 *   stderr.
 *
 * Each script runs in its own session (setsid), with its payload from a private file, and neither
 * the control channel (fd 3) nor the lock (fd 9): a daemon it starts cannot hold either. When the
 * controller goes away (stdin ends, the connection dropped or the controller was killed), the
 * running script is killed and the session exits, releasing the lock: nothing keeps running on
 * the host for a run that no longer exists.
 *
 * Its arguments: lock mode (exclusive, shared or none), seconds to wait for the lock, and who holds
 * it (shown to a run that finds the host locked). Only this constant code and those words appear
 * in the host's process list; scripts and payloads travel on stdin.
 */
export const SESSION_SCRIPT = `LC_ALL=C; export LC_ALL
fb_mode=$1 fb_wait=$2 fb_who=$3
if [ "$(id -u)" = 0 ]; then fb_root=/var/lib/fleetbook; else fb_root="\${XDG_STATE_HOME:-$HOME/.local/state}/fleetbook"; fi
mkdir -p "$fb_root" && fb_d=$(umask 077 && mktemp -d "$fb_root/session.XXXXXX") || { echo "cannot create a session directory in $fb_root" >&2; exit 70; }
trap 'rm -rf "$fb_d"' EXIT
trap 'exit 129' HUP
trap 'exit 141' PIPE
trap 'exit 143' TERM
# Sessions of a host that crashed or was killed outright leave their directory behind.
find "$fb_root" -maxdepth 1 -name 'session.*' -mmin +1440 -exec rm -rf {} + 2>/dev/null
exec 3<&0 </dev/null
if [ "$fb_mode" != none ]; then
  fb_l=/run/lock/fleetbook.lock; [ -d /run/lock ] || fb_l=/tmp/fleetbook.lock
  # \`command\`: a failed redirection of the special builtin exec would end the shell (exit 2), so
  # a user who cannot write root's lock file never reached the read-only fallback.
  { command exec 9>>"$fb_l"; } 2>/dev/null || command exec 9<"$fb_l" || { echo "cannot open the host lock $fb_l" >&2; exit 70; }
  if [ "$fb_mode" = shared ]; then fb_f=-s; else fb_f=-x; fi
  if ! flock "$fb_f" -w "$fb_wait" 9; then
    printf '@@fbs busy %s\\n' "$(cat "$fb_l.who" 2>/dev/null || echo 'another run')"
    exit 75
  fi
  { printf '%s since %s\\n' "$fb_who" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$fb_l.who"; } 2>/dev/null
fi
printf '@@fbs ready\\n'
while IFS=' ' read -r fb_n fb_p <&3; do
  # A kill that arrived just as its script ended is for no one.
  [ "$fb_n" != kill ] || continue
  head -c "$fb_n" <&3 > "$fb_d/s"
  head -c "$fb_p" <&3 > "$fb_d/i"
  FB_PRIVATE="$fb_d/private" setsid /bin/sh "$fb_d/s" < "$fb_d/i" > "$fb_d/o" 2> "$fb_d/e" 3<&- 9<&- &
  fb_j=$!
  ( IFS= read -r fb_c <&3; kill -s TERM -- "-$fb_j" 2>/dev/null; sleep 2; kill -s KILL -- "-$fb_j" 2>/dev/null ) 9<&- &
  fb_w=$!
  wait "$fb_j"; fb_rc=$?
  # KILL, not TERM: blocked in read, the watcher would run a TERM trap only once a line came.
  kill -s KILL "$fb_w" 2>/dev/null; wait "$fb_w" 2>/dev/null
  # What the script's private directories were (see host-scripts.ts): gone, even if it was killed.
  if [ -s "$fb_d/private" ]; then while IFS= read -r fb_t; do rm -rf -- "$fb_t"; done < "$fb_d/private"; fi
  rm -f "$fb_d/i" "$fb_d/private"
  # A daemon the script started (dma delivering in the background) may write to its output
  # after it ended: the sizes announced must be the bytes sent, so a copy goes, and the next
  # script gets new files.
  cp "$fb_d/o" "$fb_d/O"; cp "$fb_d/e" "$fb_d/E"; rm -f "$fb_d/o" "$fb_d/e"
  printf '@@fbs done %s %s %s\\n' "$fb_rc" "$(wc -c < "$fb_d/O")" "$(wc -c < "$fb_d/E")"
  cat "$fb_d/O" "$fb_d/E"
done
`;
