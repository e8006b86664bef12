import { fileDiff, lazyFileDiff, sensitiveFileDiff } from './diff.ts';
import { splitLines } from './line-diff.ts';
import {
  fact,
  type FileFact,
  type FileQuery,
  type FileRead,
  type GroupFact,
  type GroupQuery,
  type UserFact,
  type UserQuery,
} from './facts.ts';
import { lineHashes, sha256 } from './probe-script.ts';
import { sh } from './shell.ts';
import type { Change, DiffPart, Plan, Step } from './task.ts';
import { ConfigError, TaskFailure } from './errors.ts';

export interface Attributes {
  readonly mode: string;
  readonly owner: string;
  readonly group: string;
}

export interface DesiredFile extends Attributes {
  readonly path: string;
  readonly content: Buffer | string;
  /** Command run on the temp file before it replaces the live one; `%s` is the temp path. */
  readonly validate?: string;
  /** Keep the content out of diffs and logs: the diff shows which lines change, values masked. */
  readonly sensitive?: boolean;
}

/** What a file task should read of the live file to diff it. */
export function fileRead(sensitive: boolean | undefined): FileRead {
  return sensitive === true ? 'lineHashes' : 'content';
}

/** Normalise "755" / "0755" to four digits so modes compare as the probe reports them. */
export function normMode(mode: string): string {
  return mode.padStart(4, '0');
}

/**
 * Attribute changes of an existing path as one change (chmod/chown now, the old values as undo),
 * or null when they already match.
 */
export function attributeChange(actual: FileFact, want: Attributes, what: string): Change | null {
  const diff: DiffPart[] = [];
  const steps: Step[] = [];
  const undo: Step[] = [];
  const p = actual.path;
  const mode = normMode(want.mode);
  // chown clears setuid/setgid bits, so chmod comes after it, in the steps and in the undo.
  if (actual.owner !== want.owner || actual.group !== want.group) {
    diff.push({
      kind: 'attr',
      subject: p,
      field: 'owner',
      before: `${actual.owner}:${actual.group}`,
      after: `${want.owner}:${want.group}`,
    });
    steps.push({
      op: 'run',
      describe: `chown ${want.owner}:${want.group} ${p}`,
      script: sh`chown -h -- ${`${want.owner}:${want.group}`} ${p}`,
    });
    undo.push({
      op: 'run',
      describe: `chown ${actual.owner}:${actual.group} ${p}`,
      script: sh`chown -h -- ${`${actual.owner ?? 'root'}:${actual.group ?? 'root'}`} ${p}`,
    });
  }
  const chown = steps.length > 0;
  if (actual.mode !== mode)
    diff.push({ kind: 'attr', subject: p, field: 'mode', before: actual.mode ?? '?', after: mode });
  if (actual.mode !== mode || (chown && isSpecialMode(mode)))
    steps.push({ op: 'run', describe: `chmod ${mode} ${p}`, script: sh`chmod -- ${mode} ${p}` });
  if (actual.mode !== mode || (chown && isSpecialMode(actual.mode)))
    undo.push({
      op: 'run',
      describe: `chmod ${actual.mode ?? '0644'} ${p}`,
      script: sh`chmod -- ${actual.mode ?? '0644'} ${p}`,
    });
  if (steps.length === 0) return null;
  return {
    summary: `set ${diff.map((d) => (d.kind === 'attr' ? d.field : '')).join(' and ')} of ${what} ${p}`,
    diff,
    steps,
    undo,
    effects: [{ kind: 'file', fact: { ...actual, mode, owner: want.owner, group: want.group } }],
  };
}

/** A mode with setuid, setgid or sticky bits, which a chown may clear. */
function isSpecialMode(mode: string | null): boolean {
  return mode !== null && mode.length === 4 && mode[0] !== '0';
}

/**
 * Plan a whole file: content (written atomically by the runner, which also saves the old file for
 * undo) and attributes. Null when the live file already matches.
 */
export function planFile(host: string, actual: FileFact, want: DesiredFile): Change | null {
  if (actual.exists && actual.type !== 'file') {
    throw new TaskFailure(
      `${want.path} exists and is a ${actual.type ?? 'special file'}, not a regular file; refusing to replace it`,
    );
  }
  const content =
    typeof want.content === 'string' ? Buffer.from(want.content, 'utf8') : want.content;
  const hash = sha256(content);
  const mode = normMode(want.mode);
  const newFact: FileFact = {
    path: want.path,
    exists: true,
    type: 'file',
    mode,
    owner: want.owner,
    group: want.group,
    size: content.length,
    sha256: hash,
    // A sensitive file's bytes stay out of the effects (which may be logged or journaled); a later
    // task reading it asks for line hashes anyway (fileRead(true)).
    ...(want.sensitive === true ? { lineHashes: lineHashes(content) } : { content }),
    mtime: actual.mtime,
  };
  if (actual.exists && actual.sha256 === hash) {
    return attributeChange(actual, want, 'file');
  }
  // The diff is made only if someone reads it (--diff, --json): a big file's costs the controller.
  const diff = lazyFileDiff(want.path, (): string => {
    if (want.sensitive === true)
      return sensitiveFileDiff(
        host,
        want.path,
        actual.exists ? (actual.lineHashes ?? []) : null,
        splitLines(content.toString('utf8')),
        lineHashes(content),
      ).unified;
    if (actual.exists && actual.content === undefined)
      return `--- ${host}:${want.path}\n+++ ${host}:${want.path}\ncontent changes (sha256 ${actual.sha256?.slice(0, 12) ?? '?'} -> ${hash.slice(0, 12)}, ${content.length} bytes)\n`;
    return fileDiff(
      host,
      want.path,
      actual.exists ? (actual.content ?? Buffer.alloc(0)) : null,
      content,
    ).unified;
  });
  const parts: DiffPart[] = [diff];
  if (actual.exists) {
    if (actual.mode !== mode)
      parts.push({
        kind: 'attr',
        subject: want.path,
        field: 'mode',
        before: actual.mode ?? '?',
        after: mode,
      });
    if (actual.owner !== want.owner || actual.group !== want.group) {
      parts.push({
        kind: 'attr',
        subject: want.path,
        field: 'owner',
        before: `${actual.owner}:${actual.group}`,
        after: `${want.owner}:${want.group}`,
      });
    }
  }
  const step: Step = {
    op: 'write',
    path: want.path,
    content,
    mode,
    owner: want.owner,
    group: want.group,
    ...(want.validate !== undefined ? { validate: want.validate } : {}),
  };
  return {
    summary: `${actual.exists ? 'update' : 'create'} file ${want.path} (${mode} ${want.owner}:${want.group})`,
    diff: parts,
    steps: [step],
    undo: [],
    effects: [{ kind: 'file', fact: newFact }],
  };
}

/** Probe keys used by accountProbe; prefixed so they cannot clash with a task's own fact names. */
const OWNER_KEY = 'account:owner';
const GROUP_KEY = 'account:group';

/**
 * Fact queries that tell whether a path's owner and group exist (none for root, which always does).
 * Spread into a task's probe; in check mode the runner overlays earlier tasks' user/group effects,
 * so an account that an earlier ensureUser would create counts as existing.
 */
export function accountProbe(owner: string, group: string): Record<string, UserQuery | GroupQuery> {
  const spec: Record<string, UserQuery | GroupQuery> = {};
  if (owner !== 'root') spec[OWNER_KEY] = fact.user(owner);
  if (group !== 'root') spec[GROUP_KEY] = fact.group(group);
  return spec;
}

/** A plan failure message when the owner or group probed by accountProbe does not exist, else null. */
export function missingAccount(
  facts: Readonly<Record<string, unknown>>,
  owner: string,
  group: string,
  path: string,
): string | null {
  const user = facts[OWNER_KEY] as UserFact | undefined;
  const grp = facts[GROUP_KEY] as GroupFact | undefined;
  const missing: string[] = [];
  if (owner !== 'root' && user?.exists !== true) missing.push(`user "${owner}"`);
  if (group !== 'root' && grp?.exists !== true) missing.push(`group "${group}"`);
  if (missing.length === 0) return null;
  return `${path} is to be owned by ${owner}:${group}, but ${missing.join(' and ')} ${missing.length === 1 ? 'does' : 'do'} not exist on this host (create ${missing.length === 1 ? 'it' : 'them'} in an earlier task, e.g. ensureUser)`;
}

/**
 * The probe of a task that manages a whole file: the file (content or line hashes), its parent
 * directory, and its owner and group accounts. Pair with planWholeFile. Given the content the
 * task will write, the live file's bytes are only fetched when they differ from it.
 */
export function wholeFileProbe(
  want: Pick<DesiredFile, 'path' | 'owner' | 'group' | 'sensitive'> & {
    readonly content?: Buffer | string;
  },
): Record<string, FileQuery | UserQuery | GroupQuery> {
  const expected = want.content === undefined ? undefined : sha256(want.content);
  return {
    ...accountProbe(want.owner, want.group),
    'file:parent': fact.file(parentDir(want.path)),
    'file:target': fact.file(want.path, fileRead(want.sensitive), expected),
  };
}

/**
 * Plan a whole file from the facts of wholeFileProbe: fails when the parent directory is missing
 * (the atomic write puts its temp file there) or the owner/group does not exist; otherwise planFile.
 */
export function planWholeFile(
  host: string,
  facts: Readonly<Record<string, unknown>>,
  want: DesiredFile,
): Plan {
  const parent = facts['file:parent'] as FileFact | undefined;
  const target = facts['file:target'] as FileFact | undefined;
  if (parent === undefined || target === undefined)
    throw new Error('planWholeFile needs the facts of wholeFileProbe');
  const dir = parentDir(want.path);
  // In check mode an earlier task (a package install) may be about to create the directory, and
  // the plan cannot know: `unknown` says so honestly, and a real run turns it into a failure.
  if (!parent.exists)
    return {
      status: 'unknown',
      reason: `cannot write ${want.path} yet: directory ${dir} does not exist (an earlier task such as a package install may create it; otherwise create it with ensureDir)`,
    };
  if (parent.type !== 'directory')
    return {
      status: 'fail',
      message: `cannot write ${want.path}: ${dir} is a ${parent.type ?? 'special file'}, not a directory`,
    };
  const noAccount = missingAccount(facts, want.owner, want.group, want.path);
  if (noAccount !== null) return { status: 'fail', message: noAccount };
  try {
    const change = planFile(host, target, want);
    return change === null ? { status: 'ok' } : { status: 'change', changes: [change] };
  } catch (err) {
    if (err instanceof TaskFailure) return { status: 'fail', message: err.message };
    throw err;
  }
}

function parentDir(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  const i = trimmed.lastIndexOf('/');
  return i <= 0 ? '/' : trimmed.slice(0, i);
}

/** For a file task's params: a validate command without `%s` ignores the new file, so it validates nothing. */
export function checkValidate(validate: string | undefined, task: string): void {
  if (validate !== undefined && !validate.includes('%s')) {
    throw new ConfigError(
      `validate: "${validate}" must contain %s (the path of the new file, checked before it replaces the live one)`,
      {
        task,
        field: 'validate',
      },
    );
  }
}

/** The params every whole-file task shares (templateFile, copyFile, and users' own). */
export interface FileTaskParams {
  readonly dest: string;
  readonly mode?: string;
  readonly owner?: string;
  readonly group?: string;
  readonly validate?: string;
  readonly sensitive?: boolean;
}

/** The file such a task wants, with the usual defaults (0644 root:root). */
export function desiredFile(p: FileTaskParams, content: Buffer | string): DesiredFile {
  return {
    path: p.dest,
    content,
    mode: normMode(p.mode ?? '0644'),
    owner: p.owner ?? 'root',
    group: p.group ?? 'root',
    sensitive: p.sensitive === true,
    ...(p.validate !== undefined ? { validate: p.validate } : {}),
  };
}
