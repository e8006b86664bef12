import {
  defineTask,
  fact,
  Type,
  type FileFact,
  type Plan,
  type Static,
  AccountName,
  planWholeFile,
  wholeFileProbe,
} from 'fleetbook';

/** Cron's @-schedules, and a five-field schedule: each field digits, `*`, `/`, `,`, `-` or names. */
const SCHEDULE =
  '^(@(reboot|yearly|annually|monthly|weekly|daily|midnight|hourly)|([0-9A-Za-z*/,-]+\\s+){4}[0-9A-Za-z*/,-]+)$';

const Params = Type.Object(
  {
    name: Type.String({
      pattern: '^[A-Za-z0-9_-]+$',
      description: 'letters, digits, _ and - (cron ignores other file names in /etc/cron.d)',
      doc: 'The file in /etc/cron.d that holds the job.',
    }),
    schedule: Type.Optional(
      Type.String({
        pattern: SCHEDULE,
        description: 'five cron fields (minute hour day month weekday) or @daily and the like',
        doc: 'When it runs: `"*/15 * * * *"`, `"30 2 * * 1-5"`, `"@reboot"`.',
      }),
    ),
    command: Type.Optional(
      Type.String({
        minLength: 1,
        pattern: '^[^\\n%]+$',
        description: 'one line without % (cron turns % into a newline)',
        doc: 'The command line, run by /bin/sh.',
      }),
    ),
    user: Type.Optional({ ...AccountName, default: 'root', doc: 'Who the job runs as.' }),
    env: Type.Optional(
      Type.Record(
        Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
        Type.String({ pattern: '^[^\\n]*$' }),
        {
          doc: 'Variables set for the job, such as `MAILTO` or `PATH`.',
        },
      ),
    ),
    state: Type.Optional(
      Type.Union([Type.Literal('present'), Type.Literal('absent')], { default: 'present' }),
    ),
  },
  {
    additionalProperties: false,
    doc: 'A job on any schedule, in its own file in /etc/cron.d (root 0644), with its user and environment lines.',
  },
);
export type CronJobParams = Static<typeof Params>;

/** The cron.d file: a header, the environment lines, the job line. */
export function cronFile(p: CronJobParams): string {
  const env = Object.entries(p.env ?? {}).map(([k, v]) => `${k}=${v}\n`);
  return [
    `# Managed by fleetbook (cronJob ${p.name}): local edits are overwritten.\n`,
    ...env,
    `${(p.schedule ?? '').trim().split(/\s+/).join(' ')} ${p.user ?? 'root'} ${p.command ?? ''}\n`,
  ].join('');
}

/** A job in /etc/cron.d/NAME; its user must exist (an earlier ensureUser may make it). */
export const cronJob = defineTask({
  type: 'cronJob',
  params: Params,
  rules: [
    { when: 'state', is: ['present'], require: ['schedule', 'command'] },
    { when: 'state', is: ['absent'], forbid: ['schedule', 'command', 'user', 'env'] },
  ],
  describe: (p) => p.name,
  probe: (p) => ({
    ...wholeFileProbe({ path: `/etc/cron.d/${p.name}`, owner: 'root', group: 'root' }),
    user: fact.user(p.user ?? 'root'),
  }),
  plan: (p, facts, _prepared, ctx): Plan => {
    const path = `/etc/cron.d/${p.name}`;
    const cur = (facts as Readonly<Record<string, unknown>>)['file:target'] as FileFact;
    if (p.state === 'absent')
      return cur.exists
        ? {
            status: 'change',
            changes: [
              {
                summary: `remove cron job ${path} (kept in the run's backups)`,
                diff: [{ kind: 'item', sign: '-', text: `cron job ${path}` }],
                steps: [{ op: 'remove', path }],
                undo: [],
                effects: [{ kind: 'file', fact: { ...cur, exists: false, type: null } }],
              },
            ],
          }
        : { status: 'ok' };
    if (!facts.user.exists)
      return {
        status: 'fail',
        message: `user ${p.user ?? 'root'} does not exist, so ${path} would never run (create it in an earlier task, e.g. ensureUser)`,
      };
    return planWholeFile(ctx.host.name, facts, {
      path,
      content: cronFile(p),
      mode: '0644',
      owner: 'root',
      group: 'root',
    });
  },
});
