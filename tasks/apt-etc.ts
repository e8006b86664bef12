/**
 * What an install's maintainer scripts do to /etc outside dpkg's own files, recorded so its undo
 * can put it back: dma's postinst writes /etc/mailname, adduser edits /etc/passwd and /etc/group,
 * and purging the package removes neither. Shell functions for the install and undo scripts of
 * aptInstall, with the install's record path as their argument ($1, see installRecord).
 *
 * The install keeps a manifest of /etc (type, mode, owner, sha256 or link target per path) and a
 * copy of it from just before; afterwards only the paths that changed and that no package the
 * install added owns (their purge removes those) are kept: `$1.etc-before` (their lines before,
 * with a copy of each in `$1.saved`) and `$1.etc-after`. The undo, run after the purge, compares
 * each path with both: still as the install left it, it is removed or restored; as it was before,
 * there is nothing to do; anything else was changed since, and is left alone and named.
 *
 * The account files' backups (`/etc/passwd-`, `/etc/shadow-`, ...) are not tracked: every tool
 * that edits an account file writes its backup, so a purge that removes the package's user (or any
 * userdel since) changes them, and putting back an old backup would help no one.
 */
import { sh } from 'fleetbook';

export const ETC_FUNCTIONS = sh`fb_etc_manifest() {
  { find /etc -xdev -printf 'a\\t%p\\t%y %m %U %G %l\\n'
    find /etc -xdev -type f -print0 | xargs -0r sha256sum | sed -n 's/^\\([0-9a-f]\\{64\\}\\)  \\(.*\\)$/h\\t\\2\\t\\1/p'
  } | awk -F '\\t' '$1 == "a" { a[$2] = $3 } $1 == "h" { h[$2] = $3 } END { for (p in a) if (p !~ /^\\/etc\\/(passwd|group|shadow|gshadow|subuid|subgid)-$/) print p "\\t" a[p] " " h[p] }' |
    LC_ALL=C sort
}
fb_etc_before() {
  rm -rf -- "$1.etc" "$1.saved"; fb_etc_manifest > "$1.m0" && cp -a /etc "$1.etc"
}
fb_etc_record() {
  [ -f "$1.m0" ] || return 0
  fb_etc_manifest > "$1.m1"
  if [ -s "$1" ]; then dpkg-query -L -- $(cat "$1") 2>/dev/null; fi | LC_ALL=C sort -u > "$1.owned"
  fb_unowned() { awk -F '\\t' 'FILENAME == ARGV[1] { o[$0] = 1; next } !($1 in o)' "$1.owned" -; }
  comm -13 "$1.m0" "$1.m1" | fb_unowned "$1" > "$1.etc-after"
  comm -23 "$1.m0" "$1.m1" | fb_unowned "$1" > "$1.etc-before"
  mkdir -p -m 0700 "$1.saved"
  cut -f1 "$1.etc-before" | while IFS= read -r p; do
    [ -d "$1.etc\${p#/etc}" ] && [ ! -L "$1.etc\${p#/etc}" ] && continue
    mkdir -p -- "$1.saved$(dirname -- "$p")" && cp -a -- "$1.etc\${p#/etc}" "$1.saved$p"
  done
  rm -rf -- "$1.etc" "$1.m0" "$1.m1" "$1.owned"
}
fb_etc_undo() {
  [ -f "$1.etc-after" ] || return 0
  fb_etc_manifest > "$1.m2"
  fb_left=; fb_tab=$(printf '\t')
  awk -F '\\t' 'FILENAME == ARGV[1] { now[$1] = $2; next }
    FILENAME == ARGV[2] { bef[$1] = $2; seen[$1] = 1; next }
    { aft[$1] = $2; seen[$1] = 1 }
    END { for (p in seen) { n = (p in now) ? now[p] : "-"; b = (p in bef) ? bef[p] : "-"; a = (p in aft) ? aft[p] : "-"
      if (n == b) continue
      if (n != a) print "left\\t" p; else if (b == "-") print "remove\\t" p; else print "restore\\t" p "\\t" b } }' \\
    "$1.m2" "$1.etc-before" "$1.etc-after" | LC_ALL=C sort -t "$fb_tab" -k2,2r > "$1.plan"
  while IFS="$fb_tab" read -r act p b; do
    case "$act" in
      remove) if [ -d "$p" ] && [ ! -L "$p" ]; then rmdir -- "$p" 2>/dev/null || fb_left="$fb_left $p"; else rm -f -- "$p"; fi ;;
      restore)
        set -- "$1" $b
        if [ "$2" = d ]; then mkdir -p -- "$p" && chown -- "$4:$5" "$p" && chmod -- "$3" "$p"
        else cp -a -- "$1.saved$p" "$(dirname -- "$p")/.fleetbook-restore" && mv -f -- "$(dirname -- "$p")/.fleetbook-restore" "$p"; fi ;;
      *) fb_left="$fb_left $p" ;;
    esac
  done < "$1.plan"
  rm -f -- "$1.m2" "$1.plan"
  if [ -n "$fb_left" ]; then echo "left alone (changed since the install):$fb_left" >&2; return 3; fi
  rm -rf -- "$1.etc-before" "$1.etc-after" "$1.saved"
}
`;
