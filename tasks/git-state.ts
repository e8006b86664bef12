// gitCheckout's fact: the commit the remote's version names (git ls-remote) and what the checkout
// at dest holds, read in the task's one round trip, simulated in check mode after a checkout.
import { defineFact, joinScripts, sh, type Script } from 'fleetbook';
import { answerBlocks } from './fact-answers.ts';

export interface GitQuery {
  readonly repo: string;
  readonly version: string;
  readonly dest: string;
}

/** What the remote's version is: a commit, and whether it names a branch, a tag or the commit itself. */
export type GitRemote =
  | { readonly sha: string; readonly kind: 'branch' | 'tag' | 'commit' | 'head' }
  | { readonly error: string };

export type GitDest =
  | { readonly state: 'absent' }
  | { readonly state: 'notRepo' }
  | {
      readonly state: 'repo';
      /** The commit checked out (empty in a repository with none). */
      readonly head: string;
      /** The local branch checked out; empty when detached. */
      readonly branch: string;
      readonly origin: string;
      /** Tracked files differ from the commit. */
      readonly dirty: boolean;
    };

export interface GitState {
  /** git is on the host; without it nothing else is read. */
  readonly git: boolean;
  readonly remote: GitRemote;
  readonly dest: GitDest;
}

const COMMIT = /^[0-9a-f]{40}$/;

/**
 * One query's answer, after a `@@` line: `r SHA REF` per ls-remote line (or `e LAST-LINE`), then
 * the checkout: `h`ead, `b`ranch, `o`rigin and `dirty`, or `notrepo`, `absent`; `nogit` alone.
 * `fb_gs_git` reads with `safe.directory=*`: the checkout may belong to the app's user, and git
 * refuses, as root, to read a repository someone else owns.
 */
function queryScript(q: GitQuery): Script {
  const remote = COMMIT.test(q.version)
    ? sh`echo r ${q.version} ${q.version}`
    : sh`if fb_r=$(GIT_TERMINAL_PROMPT=0 GIT_SSH_COMMAND='ssh -o BatchMode=yes' timeout 60 git ls-remote -- ${q.repo} ${q.version} ${`${q.version}^{}`} 2>&1); then printf '%s\\n' "$fb_r" | sed 's/^/r /'; else printf 'e %s\\n' "$(printf '%s\\n' "$fb_r" | grep -E -m 1 '^(fatal|error|ERROR)' || printf '%s\\n' "$fb_r" | tail -n 1)"; fi`;
  return sh`echo @@
d=${q.dest}
if command -v git >/dev/null 2>&1; then
${remote}
if [ -d "$d/.git" ]; then
echo "h $(fb_gs_git rev-parse -q --verify HEAD)"
echo "b $(fb_gs_git symbolic-ref -q --short HEAD)"
echo "o $(fb_gs_git config --get remote.origin.url)"
[ -z "$(fb_gs_git status --porcelain --untracked-files=no)" ] || echo dirty
elif [ -e "$d" ] || [ -L "$d" ]; then echo notrepo
else echo absent; fi
else echo nogit; [ -e "$d" ] || [ -L "$d" ] || echo absent; fi
`;
}

/** The remote's commit for `version`, from ls-remote's `r SHA REF` lines: a peeled tag first. */
export function resolveRemote(lines: readonly string[], version: string): GitRemote {
  const error = lines.find((l) => l.startsWith('e '));
  if (error !== undefined) return { error: `git ls-remote: ${error.slice(2)}` };
  const refs = new Map(
    lines
      .filter((l) => l.startsWith('r '))
      .map((l) => {
        const [sha = '', ref = ''] = l.slice(2).split(/\s+/);
        return [ref, sha] as const;
      }),
  );
  if (COMMIT.test(version)) return { sha: version, kind: 'commit' };
  const found: readonly [string, 'branch' | 'tag' | 'head'][] = [
    [`refs/tags/${version}^{}`, 'tag'],
    [`refs/tags/${version}`, 'tag'],
    [`refs/heads/${version}`, 'branch'],
    ...(version === 'HEAD' ? [['HEAD', 'head'] as [string, 'head']] : []),
  ];
  for (const [ref, kind] of found) {
    const sha = refs.get(ref);
    if (sha !== undefined) return { sha, kind };
  }
  return { error: `the remote has no branch or tag ${version}` };
}

function parseOne(block: string, q: GitQuery): GitState {
  const lines = block.split('\n').filter((l) => l !== '');
  const field = (k: string) => lines.find((l) => l.startsWith(`${k} `))?.slice(2) ?? '';
  const dest: GitDest = lines.includes('absent')
    ? { state: 'absent' }
    : lines.includes('notrepo') || lines.includes('nogit')
      ? { state: 'notRepo' }
      : {
          state: 'repo',
          head: field('h'),
          branch: field('b'),
          origin: field('o'),
          dirty: lines.includes('dirty'),
        };
  if (lines.includes('nogit'))
    return { git: false, remote: { error: 'git is not on this host' }, dest };
  return { git: true, remote: resolveRemote(lines, q.version), dest };
}

/** The remote's commit for a version, and the checkout at dest. */
export const gitState = defineFact<GitQuery, GitState>({
  kind: 'gitState',
  script: (qs) =>
    joinScripts([
      sh`fb_gs_git() { git -c safe.directory='*' -C "$d" "$@" 2>/dev/null; }`,
      ...qs.map(queryScript),
    ]),
  parse: (stdout, qs) => {
    const blocks = answerBlocks(stdout, 'gitState', qs.length);
    return qs.map((q, i) => parseOne(blocks[i] ?? '', q));
  },
});
