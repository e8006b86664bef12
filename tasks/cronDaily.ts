import {
  ConfigError,
  defineTask,
  fact,
  Type,
  type Static,
  planWholeFile,
  wholeFileProbe,
  renderTemplate,
  templateData,
} from 'fleetbook';

const Params = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      doc: "The job's file name in /etc/cron.daily: letters, digits, `_` and `-` only (run-parts skips other names).",
    }),
    script: Type.Optional(
      Type.String({
        doc: "The job's content; must start with `#!`. Exactly one of script and src.",
      }),
    ),
    src: Type.Optional(
      Type.String({
        minLength: 1,
        doc: 'A template under templates/ rendering the job. Exactly one of script and src.',
      }),
    ),
    vars: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        doc: 'Template vars over the host vars (only with src).',
      }),
    ),
  },
  { additionalProperties: false, doc: 'A daily job in /etc/cron.daily, root 0755.' },
);
export type CronDailyParams = Static<typeof Params>;

const CRON_DIR = '/etc/cron.daily';
/** Packages that run /etc/cron.daily; without one of them the job would never run. */
const CRON_DAEMONS = ['anacron', 'bcron', 'cron', 'cronie', 'systemd-cron'] as const;

function label(p: CronDailyParams): string {
  return `cronDaily "${p.name}"`;
}

function checkShebang(script: string, p: CronDailyParams, field: 'script' | 'src'): void {
  if (!script.startsWith('#!')) {
    const what = field === 'script' ? 'script' : `the rendered template ${p.src ?? ''}`;
    throw new ConfigError(
      `${field}: ${what} must start with "#!" (run-parts executes the file directly, so it needs an interpreter line such as #!/bin/sh)`,
      {
        task: label(p),
        field,
      },
    );
  }
}

/**
 * A daily cron job: /etc/cron.daily/NAME, root 0755, from an inline script or a template.
 * Names run-parts would silently skip (anything with a dot, such as `backup.sh`) are refused.
 */
export const cronDaily = defineTask({
  type: 'cronDaily',
  params: Params,
  // vars fill a template (src); an inline script is used as it is.
  rules: [{ exactlyOne: ['script', 'src'] }, { when: 'script', forbid: ['vars'] }],
  check: (params) => {
    if (!/^[A-Za-z0-9_-]+$/.test(params.name)) {
      throw new ConfigError(
        'name must contain only letters, digits, underscore and hyphen (run-parts silently skips other names, so this job would never run)',
        { task: label(params), field: 'name' },
      );
    }
    if (params.script !== undefined) checkShebang(params.script, params, 'script');
  },
  describe: (p) => p.name,
  prepare: async (p, host, ctx) => {
    if (p.script !== undefined) return { content: p.script };
    const content = await renderTemplate(p.src ?? '', templateData(host, p.vars), ctx.templates);
    checkShebang(content, p, 'src');
    return { content };
  },
  probe: (p, prepared) => ({
    ...wholeFileProbe({
      path: `${CRON_DIR}/${p.name}`,
      owner: 'root',
      group: 'root',
      content: prepared.content,
    }),
    daemons: fact.packages(CRON_DAEMONS),
  }),
  plan: (p, facts, prepared, ctx) => {
    const daemons = facts.daemons;
    if (!CRON_DAEMONS.some((d) => daemons[d]?.installed === true)) {
      return {
        status: 'fail',
        message: `no cron daemon is installed (none of ${CRON_DAEMONS.join(', ')}), so ${CRON_DIR}/${p.name} would never run; install cron in an earlier task`,
      };
    }
    return planWholeFile(ctx.host.name, facts, {
      path: `${CRON_DIR}/${p.name}`,
      content: prepared.content,
      mode: '0755',
      owner: 'root',
      group: 'root',
    });
  },
});
