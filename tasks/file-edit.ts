/**
 * What lineInFile and blockInFile share: their params about the file, the rules across them, and
 * the plan of an edit (read the file, edit its text, write it whole through planWholeFile).
 */
import {
  ConfigError,
  fact,
  planFile,
  planWholeFile,
  missingAccount,
  TaskFailure,
  type DesiredFile,
  normMode,
  Type,
  type FileFact,
  type Plan,
  type PlanContext,
  AbsPath,
  AccountName,
  Mode,
  accountProbe,
  FileTaskFields,
} from 'fleetbook';

/** The fields lineInFile and blockInFile share: the file, where new text goes, its attributes. */
export const EditFields = {
  path: {
    ...AbsPath,
    doc: 'The file to edit (replaced atomically, as every file fleetbook writes).',
  },
  state: Type.Optional(
    Type.Union([Type.Literal('present'), Type.Literal('absent')], { default: 'present' }),
  ),
  insertAfter: Type.Optional(
    Type.String({
      minLength: 1,
      doc: '`EOF`, or a regular expression: new text goes after its last matching line (at the end when none matches).',
    }),
  ),
  insertBefore: Type.Optional(
    Type.String({
      minLength: 1,
      doc: '`BOF`, or a regular expression: new text goes before its last matching line (at the end when none matches).',
    }),
  ),
  create: Type.Optional(
    Type.Boolean({
      default: false,
      doc: 'Create the file when it does not exist (else that is an error).',
    }),
  ),
  mode: Type.Optional({ ...Mode, doc: 'Default: the file keeps its own (0644 for a new one).' }),
  owner: Type.Optional({
    ...AccountName,
    doc: 'Default: the file keeps its own (root for a new one).',
  }),
  group: Type.Optional({
    ...AccountName,
    doc: 'Default: the file keeps its own (root for a new one).',
  }),
  validate: FileTaskFields.validate,
};

export type EditParams = {
  readonly path: string;
  readonly state?: 'present' | 'absent';
  readonly insertAfter?: string;
  readonly insertBefore?: string;
  readonly create?: boolean;
  readonly mode?: string;
  readonly owner?: string;
  readonly group?: string;
  readonly validate?: string;
};

export const EDIT_RULES = [
  { atMostOne: ['insertAfter', 'insertBefore'] },
  { when: 'state', is: ['absent'], forbid: ['insertAfter', 'insertBefore', 'create'] },
] as const;

/** A regex param that does not compile is a ConfigError naming it, before any host. */
export function checkRegex(value: string | undefined, field: string, task: string): void {
  if (value === undefined || value === 'EOF' || value === 'BOF') return;
  try {
    new RegExp(value);
  } catch (err) {
    throw new ConfigError(`${field}: not a regular expression: ${(err as Error).message}`, {
      task,
      field,
    });
  }
}

export function editProbe(p: EditParams) {
  return {
    ...accountProbe(p.owner ?? 'root', p.group ?? 'root'),
    'file:parent': fact.file(p.path.slice(0, Math.max(1, p.path.lastIndexOf('/')))),
    'file:target': fact.file(p.path, 'content'),
  };
}

/** The edited file through planWholeFile: the file keeps the attributes the params do not name. */
export function planEdit(
  p: EditParams,
  facts: Readonly<Record<string, unknown>>,
  ctx: PlanContext,
  edit: (content: string) => string,
): Plan {
  const cur = facts['file:target'] as FileFact;
  if (!cur.exists && (p.create !== true || p.state === 'absent'))
    return p.state === 'absent'
      ? { status: 'ok', note: `${p.path} does not exist` }
      : {
          status: 'fail',
          message: `${p.path} does not exist (give create: true to make it)`,
        };
  if (cur.exists && cur.type !== 'file')
    return {
      status: 'fail',
      message: `${p.path} is a ${cur.type ?? 'special file'}, not a text file`,
    };
  // (Check mode: a file an earlier task would write, whose bytes it does not say.)
  if (cur.exists && cur.content === undefined)
    return { status: 'unknown', reason: `the content ${p.path} will have is not known yet` };
  const want: DesiredFile = {
    path: p.path,
    content: edit(cur.content?.toString('utf8') ?? ''),
    mode: normMode(p.mode ?? cur.mode ?? '0644'),
    owner: p.owner ?? cur.owner ?? 'root',
    group: p.group ?? cur.group ?? 'root',
    ...(p.validate !== undefined ? { validate: p.validate } : {}),
  };
  if (!cur.exists) return planWholeFile(ctx.host.name, facts, want);
  // An existing file's own owner and group exist; only those the params name are looked up.
  const noAccount = missingAccount(facts, p.owner ?? 'root', p.group ?? 'root', p.path);
  if (noAccount !== null) return { status: 'fail', message: noAccount };
  try {
    const change = planFile(ctx.host.name, cur, want);
    return change === null ? { status: 'ok' } : { status: 'change', changes: [change] };
  } catch (err) {
    if (err instanceof TaskFailure) return { status: 'fail', message: err.message };
    throw err;
  }
}
