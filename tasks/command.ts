import {
  ConfigError,
  defineTask,
  fact,
  raw,
  truncate,
  Type,
  type FactQuery,
  type FileFact,
  type CommandFact,
  type Static,
  AbsPath,
} from 'fleetbook';

const Params = Type.Object(
  {
    run: Type.String({ minLength: 1, doc: 'Shell script run as root by /bin/sh on the host.' }),
    creates: Type.Optional({
      ...AbsPath,
      doc: 'Skip when this path exists (the command creates it).',
    }),
    unless: Type.Optional(
      Type.String({ minLength: 1, doc: 'Skip when this read-only shell check exits 0.' }),
    ),
    describe: Type.Optional(
      Type.String({ minLength: 1, doc: 'Shown instead of the script in output and diffs.' }),
    ),
    always: Type.Optional(
      Type.Boolean({
        default: false,
        doc: 'Run on every play. Required when there is no guard, so an unguarded command is a visible choice.',
      }),
    ),
  },
  {
    additionalProperties: false,
    doc: 'A shell script run as root unless `creates` exists or `unless` exits 0 (or `always`); rollback cannot undo it.',
  },
);
export type CommandParams = Static<typeof Params>;

/** What a later task reads of a command (withResult), besides `changed`. */
export interface CommandResult {
  /** False when `creates` or `unless` said it was done already. */
  readonly ran: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

function shown(p: CommandParams): string {
  if (p.describe !== undefined) return p.describe;
  const lines = p.run.trim().split('\n');
  const first = lines[0] ?? '';
  const short = truncate(first, 60);
  return lines.length > 1 ? `${short} (+${lines.length - 1} lines)` : short;
}

/**
 * The guarded escape hatch: run a shell script unless `creates` exists or `unless` exits 0.
 * It cannot be undone (rollback skips it) and check mode cannot know its output. A command with no
 * guard is never idempotent, so it needs `always: true`.
 */
export const command = defineTask({
  type: 'command',
  params: Params,
  check: (params) => {
    const label = `command "${shown(params)}"`;
    const guarded = params.creates !== undefined || params.unless !== undefined;
    if (!guarded && params.always !== true) {
      throw new ConfigError(
        'give a guard (creates: a path the command makes, or unless: a check that exits 0 when it is done), or always: true to run it on every play; an unguarded command is never idempotent',
        { task: label, field: 'creates' },
      );
    }
    if (guarded && params.always === true) {
      throw new ConfigError(
        'always: true cannot be combined with creates or unless (the guard would be ignored)',
        { task: label, field: 'always' },
      );
    }
  },
  describe: (p) => shown(p),
  probe: (p) => {
    const spec: Record<string, FactQuery> = {};
    if (p.creates !== undefined) spec.creates = fact.file(p.creates);
    if (p.unless !== undefined) spec.unless = fact.command(raw(p.unless));
    return spec;
  },
  // What the script printed when it ran; `ran: false` when a guard said it was done already.
  // In check mode a script that would run has no output yet: the result is unknown then.
  result: (_p, got): CommandResult | undefined => {
    if (got.state === 'unchanged') return { ran: false, stdout: '', stderr: '' };
    const [step] = got.output;
    return step === undefined ? undefined : { ran: true, stdout: step.stdout, stderr: step.stderr };
  },
  plan: (p, facts) => {
    const creates = facts.creates as FileFact | undefined;
    if (creates?.exists === true) return { status: 'ok', note: `${creates.path} exists` };
    const unless = facts.unless as CommandFact | undefined;
    if (unless?.code === 0) return { status: 'ok', note: 'the unless check passed (exit 0)' };
    const what = shown(p);
    const why =
      p.always === true
        ? 'always'
        : [
            creates !== undefined ? `${creates.path} is missing` : '',
            unless !== undefined ? `unless check exited ${unless.code}` : '',
          ]
            .filter((s) => s !== '')
            .join(', ');
    return {
      status: 'change',
      changes: [
        {
          // A command's effect is unknown, so it cannot be undone; the summary says so because an
          // empty undo list alone reads as "nothing to undo".
          summary: `run: ${what} (${why}; cannot be undone)`,
          diff: [{ kind: 'item', sign: '~', text: `run: ${what}` }],
          steps: [{ op: 'run', describe: what, script: raw(p.run) }],
          undo: [],
          // No effects: what the command changes is unknown. (Claiming `creates` exists would make a
          // later task see a file of unknown type.)
          effects: [],
        },
      ],
    };
  },
});
