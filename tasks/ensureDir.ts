import {
  defineTask,
  fact,
  attributeChange,
  normMode,
  sh,
  undoGuards,
  Type,
  type Change,
  type FactQuery,
  type FileFact,
  type Plan,
  type Static,
  AbsPath,
  AccountName,
  Mode,
  accountProbe,
  missingAccount,
} from 'fleetbook';

const Params = Type.Object(
  {
    path: AbsPath,
    mode: Type.Optional({ ...Mode, default: '0755' }),
    owner: Type.Optional({ ...AccountName, default: 'root' }),
    group: Type.Optional({ ...AccountName, default: 'root' }),
  },
  {
    additionalProperties: false,
    doc: 'A directory with mode and owner; missing parents are created root:root 0755, like `mkdir -p`.',
  },
);

/** Every ancestor of an absolute path, outermost first: /a/b/c -> ["/a", "/a/b"]. */
function ancestors(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  return parts.slice(0, -1).map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}

type DirParams = Static<typeof Params>;

/** What a directory's plan reads: the accounts, every ancestor, the directory. */
export function directoryProbe(p: DirParams): Record<string, FactQuery> {
  const path = p.path.replace(/\/+$/, '') || '/';
  const spec: Record<string, FactQuery> = accountProbe(p.owner ?? 'root', p.group ?? 'root');
  for (const a of ancestors(path)) spec[`parent:${a}`] = fact.file(a);
  spec.dir = fact.file(path);
  return spec;
}

/** A directory with mode, owner and group; missing parents are created root:root 0755 like `mkdir -p`. */
export const ensureDir = defineTask({
  type: 'ensureDir',
  params: Params,
  describe: (p) => p.path,
  probe: directoryProbe,
  plan: (p, facts) => planDirectory(p, facts),
});

/** The plan of ensureDir (and of `file` with state directory), from directoryProbe's facts. */
export function planDirectory(p: DirParams, facts: Readonly<Record<string, unknown>>): Plan {
  const path = p.path.replace(/\/+$/, '') || '/';
  const want = {
    mode: normMode(p.mode ?? '0755'),
    owner: p.owner ?? 'root',
    group: p.group ?? 'root',
  };
  const dir = facts.dir as FileFact;
  const noAccount = missingAccount(facts, want.owner, want.group, path);
  if (noAccount !== null) return { status: 'fail', message: noAccount };
  const changes: Change[] = [];
  for (const a of ancestors(path)) {
    const parent = facts[`parent:${a}`] as FileFact;
    if (parent.exists && parent.type !== 'directory') {
      return { status: 'fail', message: `${a} exists and is not a directory` };
    }
    if (!parent.exists) changes.push(createDir(a, { mode: '0755', owner: 'root', group: 'root' }));
  }
  if (dir.exists && dir.type !== 'directory') {
    return {
      status: 'fail',
      message: `${path} exists and is a ${dir.type ?? 'special file'}, not a directory`,
    };
  }
  if (!dir.exists) {
    changes.push(createDir(path, want));
  } else {
    const attrs = attributeChange(dir, want, 'directory');
    if (attrs !== null) changes.push(attrs);
  }
  return changes.length === 0 ? { status: 'ok' } : { status: 'change', changes };
}

/** A new directory with mode and owner; undo removes it while it is empty. */
export function createDir(
  path: string,
  want: { mode: string; owner: string; group: string },
): Change {
  return {
    summary: `create directory ${path} (${want.mode} ${want.owner}:${want.group})`,
    diff: [
      {
        kind: 'item',
        sign: '+',
        text: `directory ${path} (${want.mode} ${want.owner}:${want.group})`,
      },
    ],
    steps: [
      {
        op: 'run',
        describe: `mkdir ${path}`,
        script: sh`mkdir -- ${path} && chown -- ${`${want.owner}:${want.group}`} ${path} && chmod -- ${want.mode} ${path}`,
      },
    ],
    // rmdir (not rm -r), and only if nothing else was put inside since: else it is left, and said so.
    undo: [
      {
        op: 'run',
        describe: `rmdir ${path}`,
        script: sh`[ ! -d ${path} ] || rmdir -- ${path}`,
        onlyIf: undoGuards.emptyDir(path),
        removes: undoGuards.takes(path),
      },
    ],
    effects: [
      {
        kind: 'file',
        fact: {
          path,
          exists: true,
          type: 'directory',
          mode: want.mode,
          owner: want.owner,
          group: want.group,
          size: null,
          sha256: null,
          mtime: null,
        },
      },
    ],
  };
}
