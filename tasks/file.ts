import {
  ConfigError,
  defineTask,
  fact,
  absentFile,
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
import { directoryProbe, planDirectory } from './ensureDir.ts';
import { missingParent, parentOf } from './parent-dir.ts';

const Params = Type.Object(
  {
    path: AbsPath,
    state: Type.Union(
      [
        Type.Literal('absent'),
        Type.Literal('link'),
        Type.Literal('hard'),
        Type.Literal('touch'),
        Type.Literal('directory'),
      ],
      {
        doc: "absent: nothing there (a file, link or whole tree is kept in the run's backups, so undo puts it back as it was); link: a symlink to `target`; hard: a hard link to `target`, an existing regular file on the same filesystem; touch: a file that exists (created empty if missing; an existing one keeps its bytes and times); directory: as ensureDir.",
      },
    ),
    target: Type.Optional(
      Type.String({
        minLength: 1,
        pattern: '^[^\\n\\0]+$',
        doc: 'state link: what the symlink points to, written as given (absolute, or relative to the link). state hard: the absolute path of the file to link.',
      }),
    ),
    force: Type.Optional(
      Type.Boolean({
        default: false,
        doc: "state link or hard: replace what else is at path (kept in the run's backups); without it, it is refused.",
      }),
    ),
    mode: Type.Optional(Mode),
    owner: Type.Optional(AccountName),
    group: Type.Optional(AccountName),
  },
  {
    additionalProperties: false,
    doc: "A path that is absent, a symlink, an existing file or a directory, as Ansible's `file`; what it removes or replaces is kept for undo.",
  },
);

export type FileParams = Static<typeof Params>;

/**
 * A path in the state asked for. Nothing is deleted: what `absent` (or a forced `link`) takes away
 * is moved into the run's backups on the host (a `remove` step), so undo puts it back with its
 * bytes, mode, owner and mtime.
 */
export const file = defineTask({
  type: 'file',
  params: Params,
  rules: [
    { when: 'state', is: ['link', 'hard'], require: ['target'] },
    { when: 'state', is: ['absent', 'touch', 'directory'], forbid: ['target', 'force'] },
    // A hard link has its file's mode and owner: they are the target's to set.
    { when: 'state', is: ['absent', 'link', 'hard'], forbid: ['mode', 'owner', 'group'] },
  ],
  check: (p) => {
    if (p.state === 'hard' && !(p.target ?? '').startsWith('/'))
      throw new ConfigError(
        'target: a hard link needs the absolute path of an existing file (a relative target is only for state link)',
        { task: `file "${p.path}"`, field: 'target' },
      );
  },
  describe: (p) => `${p.path} ${p.state}`,
  probe: (p): Record<string, FactQuery> => {
    if (p.state === 'directory') return directoryProbe(p);
    return {
      ...(p.state === 'touch' ? accountProbe(p.owner ?? 'root', p.group ?? 'root') : {}),
      path: fact.file(p.path),
      parent: fact.file(parentOf(p.path)),
      ...(p.state === 'hard' ? { target: fact.file(p.target ?? '') } : {}),
    };
  },
  plan: (p, facts): Plan => {
    if (p.state === 'directory') return planDirectory(p, facts);
    const cur = facts.path as FileFact;
    if (p.state === 'absent') return cur.exists ? change([removal(cur)]) : { status: 'ok' };
    const noParent = missingParent(facts.parent as FileFact, p.path);
    if (noParent !== null) return noParent;
    if (p.state === 'link') return planLink(p.path, p.target ?? '', p.force === true, cur);
    if (p.state === 'hard')
      return planHardLink(p.path, facts.target as FileFact, p.force === true, cur);
    return planTouch(p, cur, facts);
  },
});

function change(changes: Change[]): Plan {
  return { status: 'change', changes };
}

function describeFact(f: FileFact): string {
  if (f.type === 'symlink') return `symlink ${f.path} -> ${f.linkTarget ?? '?'}`;
  if (f.type === 'directory') return `directory ${f.path} and everything in it`;
  return `${f.type ?? 'file'} ${f.path} (${f.mode ?? '?'} ${f.owner ?? '?'}:${f.group ?? '?'}${f.size !== null ? `, ${f.size} bytes` : ''})`;
}

/** Take what is at the path away, into the run's backups (its undo puts it back). */
function removal(cur: FileFact): Change {
  return {
    summary: `remove ${describeFact(cur)} (kept in the run's backups)`,
    diff: [{ kind: 'item', sign: '-', text: describeFact(cur) }],
    steps: [{ op: 'remove', path: cur.path }],
    undo: [],
    effects: [{ kind: 'file', fact: absentFile(cur.path) }],
  };
}

/**
 * A symlink at `path` to `target` (what `file` with state link plans, and `timezone` for
 * /etc/localtime): ok, a refusal of what is in the way, or the changes.
 */
export function planLink(path: string, target: string, force: boolean, cur: FileFact): Plan {
  if (cur.type === 'symlink' && cur.linkTarget === target) return { status: 'ok' };
  if (cur.exists && cur.type !== 'symlink' && !force)
    return {
      status: 'fail',
      message: `${describeFact(cur)} is in the way of the symlink; give force: true to replace it (it is kept for undo)`,
    };
  const link: Change = {
    summary: `${cur.type === 'symlink' ? 'repoint' : 'create'} symlink ${path} -> ${target}`,
    diff: [
      ...(cur.type === 'symlink'
        ? [{ kind: 'item' as const, sign: '-' as const, text: describeFact(cur) }]
        : []),
      { kind: 'item', sign: '+', text: `symlink ${path} -> ${target}` },
    ],
    steps: [{ op: 'run', describe: `ln -s ${target} ${path}`, script: swapLink(path, target) }],
    undo: [
      cur.type === 'symlink'
        ? {
            op: 'run',
            describe: `ln -s ${cur.linkTarget ?? ''} ${path}`,
            script: swapLink(path, cur.linkTarget ?? ''),
            onlyIf: linkedTo(path, target),
          }
        : {
            op: 'run',
            describe: `rm ${path}`,
            script: sh`rm -f -- ${path}`,
            onlyIf: linkedTo(path, target),
            removes: undoGuards.takes(path),
          },
    ],
    effects: [
      {
        kind: 'file',
        fact: { ...absentFile(path), exists: true, type: 'symlink', linkTarget: target },
      },
    ],
  };
  // What was in the way goes first, as its own change: undone after the link is.
  return change(cur.exists && cur.type !== 'symlink' ? [removal(cur), link] : [link]);
}

/**
 * Make the link beside the path, hidden (no `sites-enabled/*` glob sees it), and rename it over
 * the path: the path is never missing, and never a half-made link.
 */
function swapLink(path: string, target: string, kind: 'symbolic' | 'hard' = 'symbolic') {
  const ln = kind === 'hard' ? ['ln', '--'] : ['ln', '-s', '--'];
  return sh`t="$(dirname -- ${path})/.fleetbook-ln.$$"; rm -f -- "$t"; ${ln} ${target} "$t" && mv -fT -- "$t" ${path}`;
}

/** The link's undo only while it is still the one this run made. */
function linkedTo(path: string, target: string) {
  return sh`if [ "$(readlink -- ${path})" != ${target} ]; then echo ${`${path} no longer points to ${target}`}; exit 1; fi\n`;
}

/** `path` one more name of the regular file `target` (same device and inode). */
function planHardLink(path: string, target: FileFact, force: boolean, cur: FileFact): Plan {
  if (!target.exists || target.type !== 'file')
    return {
      status: 'fail',
      message: target.exists
        ? `${describeFact(target)} is not a regular file; a hard link needs one`
        : `${target.path} does not exist; a hard link needs an existing file`,
    };
  if (cur.exists && cur.inode !== undefined && cur.inode === target.inode) return { status: 'ok' };
  // A file an earlier task would write has no inode yet: whether one at path is it, is unknown.
  if (cur.exists && target.inode === undefined)
    return {
      status: 'unknown',
      reason: `${target.path} would be written by an earlier task: whether ${path} is the same file cannot be known before`,
    };
  if (cur.exists && !force)
    return {
      status: 'fail',
      message: `${describeFact(cur)} is in the way of the hard link (it is another file); give force: true to replace it (it is kept for undo)`,
    };
  const link: Change = {
    summary: `create hard link ${path} to ${target.path}`,
    diff: [{ kind: 'item', sign: '+', text: `hard link ${path} = ${target.path}` }],
    steps: [
      {
        op: 'run',
        describe: `ln ${target.path} ${path}`,
        script: swapLink(path, target.path, 'hard'),
      },
    ],
    undo: [
      {
        op: 'run',
        describe: `rm ${path}`,
        script: sh`rm -f -- ${path}`,
        onlyIf: sh`if [ ! ${path} -ef ${target.path} ]; then echo ${`${path} is no longer a link to ${target.path}`}; exit 1; fi\n`,
        removes: undoGuards.takes(path),
      },
    ],
    effects: [{ kind: 'file', fact: { ...target, path } }],
  };
  return change(cur.exists ? [removal(cur), link] : [link]);
}

function planTouch(p: FileParams, cur: FileFact, facts: Readonly<Record<string, unknown>>): Plan {
  const want = {
    mode: normMode(p.mode ?? '0644'),
    owner: p.owner ?? 'root',
    group: p.group ?? 'root',
  };
  const noAccount = missingAccount(facts, want.owner, want.group, p.path);
  if (noAccount !== null) return { status: 'fail', message: noAccount };
  if (!cur.exists)
    return change([
      {
        summary: `create empty file ${p.path} (${want.mode} ${want.owner}:${want.group})`,
        diff: [
          {
            kind: 'item',
            sign: '+',
            text: `file ${p.path} (${want.mode} ${want.owner}:${want.group}, empty)`,
          },
        ],
        steps: [{ op: 'write', path: p.path, content: Buffer.alloc(0), ...want }],
        undo: [],
        effects: [
          {
            kind: 'file',
            fact: {
              ...absentFile(p.path),
              exists: true,
              type: 'file',
              ...want,
              size: 0,
              sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
            },
          },
        ],
      },
    ]);
  if (cur.type !== 'file')
    return { status: 'fail', message: `${describeFact(cur)} is not a regular file` };
  // Only the attributes the params name are managed on an existing file.
  const attrs = attributeChange(
    cur,
    {
      mode: p.mode === undefined ? (cur.mode ?? want.mode) : want.mode,
      owner: p.owner ?? cur.owner ?? want.owner,
      group: p.group ?? cur.group ?? want.group,
    },
    'file',
  );
  return attrs === null ? { status: 'ok' } : change([attrs]);
}
