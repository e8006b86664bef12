import {
  absentFile,
  accountProbe,
  defineTask,
  fact,
  factEffect,
  missingAccount,
  sh,
  undoGuards,
  AbsPath,
  AccountName,
  Type,
  type Change,
  type FileFact,
  type Plan,
  type Script,
  type Static,
} from 'fleetbook';
import { missingParent, parentOf } from './parent-dir.ts';
import { gitState, type GitQuery, type GitState } from './git-state.ts';

const Params = Type.Object(
  {
    repo: Type.String({
      pattern: '^((https?|git|ssh|file)://\\S+|[^\\s@/:]+@[^\\s:]+:\\S+|/\\S+)$',
      description:
        'a git URL (https://, ssh://, git://, file://, user@host:path) or an absolute path',
      doc: 'The repository, as the host reaches it (an ssh URL needs the key on the host).',
    }),
    version: Type.Optional(
      Type.String({
        pattern: '^(?!-)(?!.*\\.\\.)[A-Za-z0-9._/+-]+$',
        description: 'a branch, a tag, a full 40-hex commit or HEAD',
        default: 'HEAD',
        doc: "What to check out: a branch (checked out as a local branch of that name), a tag, a full commit, or HEAD (the remote's default branch, detached). In check mode the remote is asked (git ls-remote) which commit it names.",
      }),
    ),
    dest: { ...AbsPath, doc: 'The checkout; made if missing (its parent must exist).' },
    depth: Type.Optional(
      Type.Integer({
        minimum: 1,
        doc: 'Fetch only this many commits of history (a shallow clone).',
      }),
    ),
    owner: Type.Optional({
      ...AccountName,
      default: 'root',
      doc: 'Owner of the checkout, every file in it.',
    }),
    group: Type.Optional({ ...AccountName, default: 'root' }),
  },
  {
    additionalProperties: false,
    doc: "A git checkout at a branch, tag or commit, as Ansible's git: cloned if missing, else fetched and checked out; refused over local changes to tracked files. Needs git on the host.",
  },
);
export type GitCheckoutParams = Static<typeof Params>;

const queryOf = (p: GitCheckoutParams): GitQuery => ({
  repo: p.repo,
  version: p.version ?? 'HEAD',
  dest: p.dest,
});

/**
 * A checkout of a repository at a version, by git on the host. In check mode the remote's commit
 * is read with ls-remote, so a moved branch is a would-change and a pinned commit is ok without
 * the network.
 */
export const gitCheckout = defineTask({
  type: 'gitCheckout',
  params: Params,
  describe: (p) => `${p.repo}@${p.version ?? 'HEAD'} -> ${p.dest}`,
  probe: (p) => ({
    ...accountProbe(p.owner ?? 'root', p.group ?? 'root'),
    parent: fact.file(parentOf(p.dest)),
    dest: fact.file(p.dest),
    git: gitState(queryOf(p)),
  }),
  plan: (p, facts): Plan => {
    const owner = p.owner ?? 'root';
    const group = p.group ?? 'root';
    const noAccount = missingAccount(facts, owner, group, p.dest);
    if (noAccount !== null) return { status: 'fail', message: noAccount };
    const g = facts.git;
    if (!g.git)
      return {
        status: 'fail',
        message: 'git is not on this host: install it first (aptInstall git)',
      };
    if ('error' in g.remote) return { status: 'fail', message: `${p.repo}: ${g.remote.error}` };
    const want = g.remote;
    if (g.dest.state === 'notRepo')
      return { status: 'fail', message: `${p.dest} exists and is not a git checkout` };
    if (g.dest.state === 'absent') {
      return (
        missingParent(facts.parent, p.dest) ?? { status: 'change', changes: [clone(p, g, want)] }
      );
    }
    const cur = g.dest;
    if (cur.origin !== p.repo)
      return {
        status: 'fail',
        message: `${p.dest} is a checkout of ${cur.origin || 'no origin'}, not ${p.repo}`,
      };
    const branch = want.kind === 'branch' ? (p.version ?? '') : '';
    const d = facts.dest;
    if (cur.head === want.sha && cur.branch === branch)
      return d.owner === owner && d.group === group
        ? { status: 'ok' }
        : { status: 'change', changes: [chownTree(p.dest, d, owner, group)] };
    if (cur.dirty)
      return {
        status: 'fail',
        message: `${p.dest} has local changes to tracked files (git status): commit or discard them first`,
      };
    return { status: 'change', changes: [update(p, g, want, cur, d)] };
  },
});

type Wanted = Extract<GitState['remote'], { sha: string }>;

/** Fetch the version into the repository in the current directory and check it out. */
function fetchAndCheckout(p: GitCheckoutParams, want: Wanted): Script {
  const depth = p.depth === undefined ? sh`` : sh`--depth ${p.depth}`;
  const v = p.version ?? 'HEAD';
  // A commit by itself is fetched by its name where the server allows it, else with everything.
  const ref =
    want.kind === 'branch'
      ? sh`fb_git fetch -q ${depth} origin ${`+refs/heads/${v}:refs/remotes/origin/${v}`}`
      : want.kind === 'tag'
        ? sh`fb_git fetch -q ${depth} origin ${`+refs/tags/${v}:refs/tags/${v}`}`
        : want.kind === 'head'
          ? sh`fb_git fetch -q ${depth} origin HEAD`
          : sh`{ fb_git fetch -q ${depth} origin ${want.sha} || fb_git fetch -q origin; }`;
  const checkout =
    want.kind === 'branch'
      ? sh`fb_git checkout -q -B ${v} ${want.sha}`
      : sh`fb_git checkout -q --detach ${want.sha}`;
  return sh`${ref} && ${checkout}`;
}

const GIT_FN = sh`fb_git() { GIT_TERMINAL_PROMPT=0 GIT_SSH_COMMAND='ssh -o BatchMode=yes' git -c safe.directory='*' "$@"; }\n`;

function wantText(p: GitCheckoutParams, want: Wanted): string {
  const v = p.version ?? 'HEAD';
  return want.kind === 'commit' ? want.sha : `${v} (${want.sha})`;
}

function clone(p: GitCheckoutParams, g: GitState, want: Wanted): Change {
  const owner = `${p.owner ?? 'root'}:${p.group ?? 'root'}`;
  const scratch = `${parentOf(p.dest)}/.fleetbook-git-${want.sha.slice(0, 12)}`;
  const script = sh`${GIT_FN}s=${scratch}; rm -rf -- "$s"
{ git init -q -- "$s" && cd "$s" && fb_git remote add origin ${p.repo} && ${fetchAndCheckout(p, want)} && chown -R -- ${owner} "$s" && mv -T -- "$s" ${p.dest}; } || { rc=$?; rm -rf -- "$s"; exit "$rc"; }
`;
  const branch = want.kind === 'branch' ? (p.version ?? '') : '';
  return {
    summary: `clone ${p.repo} at ${wantText(p, want)} into ${p.dest}`,
    diff: [
      {
        kind: 'item',
        sign: '+',
        text: `${p.dest}: checkout of ${p.repo} at ${wantText(p, want)}${p.depth ? `, depth ${p.depth}` : ''}, owned by ${owner}`,
      },
    ],
    steps: [{ op: 'run', describe: `git clone ${p.repo} ${p.dest}`, script }],
    undo: [
      {
        op: 'run',
        describe: `rm -r ${p.dest}`,
        script: sh`rm -rf -- ${p.dest}`,
        onlyIf: sh`if [ "$(git -c safe.directory='*' -C ${p.dest} rev-parse -q --verify HEAD 2>/dev/null)" != ${want.sha} ]; then echo ${`${p.dest} was checked out again since`}; exit 1; fi\n`,
        removes: undoGuards.takes(p.dest),
      },
    ],
    effects: [
      {
        kind: 'file',
        fact: {
          ...absentFile(p.dest),
          exists: true,
          type: 'directory',
          mode: '0755',
          owner: p.owner ?? 'root',
          group: p.group ?? 'root',
        },
      },
      factEffect(gitState(queryOf(p)), {
        ...g,
        dest: { state: 'repo', head: want.sha, branch, origin: p.repo, dirty: false },
      }),
    ],
  };
}

function update(
  p: GitCheckoutParams,
  g: GitState,
  want: Wanted,
  cur: Extract<GitState['dest'], { state: 'repo' }>,
  dest: FileFact,
): Change {
  const owner = `${p.owner ?? 'root'}:${p.group ?? 'root'}`;
  const before = `${dest.owner ?? 'root'}:${dest.group ?? 'root'}`;
  const back =
    cur.branch === ''
      ? sh`fb_git checkout -q -f --detach ${cur.head}`
      : sh`fb_git checkout -q -f -B ${cur.branch} ${cur.head}`;
  const branch = want.kind === 'branch' ? (p.version ?? '') : '';
  const was = cur.branch === '' ? cur.head : `${cur.branch} (${cur.head})`;
  return {
    summary: `check out ${wantText(p, want)} in ${p.dest}`,
    diff: [
      {
        kind: 'attr',
        subject: p.dest,
        field: 'checkout',
        before: was,
        after: wantText(p, want),
      },
    ],
    steps: [
      {
        op: 'run',
        describe: `git checkout ${p.version ?? 'HEAD'} in ${p.dest}`,
        script: sh`${GIT_FN}cd ${p.dest} && ${fetchAndCheckout(p, want)} && chown -R -- ${owner} .`,
      },
    ],
    undo: [
      {
        op: 'run',
        describe: `git checkout ${was} in ${p.dest}`,
        script: sh`${GIT_FN}cd ${p.dest} && ${back} && chown -R -- ${before} .`,
      },
    ],
    effects: [
      factEffect(gitState(queryOf(p)), {
        ...g,
        dest: { ...cur, head: want.sha, branch, dirty: false },
      }),
    ],
  };
}

/** The checkout is right but someone else's: every file in it given to owner. */
function chownTree(path: string, dest: FileFact, owner: string, group: string): Change {
  const before = `${dest.owner ?? 'root'}:${dest.group ?? 'root'}`;
  const after = `${owner}:${group}`;
  return {
    summary: `set owner of ${path} and everything in it`,
    diff: [{ kind: 'attr', subject: path, field: 'owner', before, after }],
    steps: [
      {
        op: 'run',
        describe: `chown -R ${after} ${path}`,
        script: sh`chown -R -- ${after} ${path}`,
      },
    ],
    undo: [
      {
        op: 'run',
        describe: `chown -R ${before} ${path}`,
        script: sh`chown -R -- ${before} ${path}`,
      },
    ],
    effects: [
      {
        kind: 'file',
        fact: { ...dest, owner, group },
      },
    ],
  };
}
