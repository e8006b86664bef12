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
import { localContent } from './copyFile.ts';

const Params = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      doc: "The job's file name in /etc/cron.daily: letters, digits, `_` and `-` only (run-parts skips other names).",
    }),
    script: Type.Optional(
      Type.String({
        doc: "The job's content; must start with `#!`. Exactly one of script, src and template.",
      }),
    ),
    src: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'a local file path',
        doc: 'The job as a file on the controller, copied as it is: relative to the project (in a role: to its `files/`), as copyFile reads `src`. Exactly one of script, src and template.',
      }),
    ),
    template: Type.Optional(
      Type.String({
        minLength: 1,
        doc: 'A template under templates/ (in a role: its own) rendering the job, as templateFile renders `src`. Exactly one of script, src and template.',
      }),
    ),
    vars: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        doc: 'Template vars over the host vars (only with template).',
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

type Source = 'script' | 'src' | 'template';

function checkShebang(script: string, p: CronDailyParams, field: Source): void {
  if (!script.startsWith('#!')) {
    const what =
      field === 'script'
        ? 'script'
        : field === 'src'
          ? `the file ${p.src ?? ''}`
          : `the rendered template ${p.template ?? ''}`;
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
 * A daily cron job: /etc/cron.daily/NAME, root 0755, from an inline script, a file or a template.
 * Names run-parts would silently skip (anything with a dot, such as `backup.sh`) are refused.
 */
export const cronDaily = defineTask({
  type: 'cronDaily',
  params: Params,
  // vars fill a template; a script or a file is used as it is.
  rules: [
    { exactlyOne: ['script', 'src', 'template'] },
    { when: 'script', forbid: ['vars'] },
    { when: 'src', forbid: ['vars'] },
  ],
  check: (params) => {
    if (!/^[A-Za-z0-9_-]+$/.test(params.name)) {
      throw new ConfigError(
        'name must contain only letters, digits, underscore and hyphen (run-parts silently skips other names, so this job would never run)',
        { task: label(params), field: 'name' },
      );
    }
    if (params.script !== undefined) checkShebang(params.script, params, 'script');
    // src was the template before it meant what it means in every other task.
    if (params.src?.endsWith('.ejs') === true)
      throw new ConfigError(
        `src: ${params.src} is a template, and src is a file copied as it is (as in copyFile): give it as template`,
        { task: label(params), field: 'src' },
      );
  },
  describe: (p) => p.name,
  prepare: async (p, host, ctx) => {
    if (p.script !== undefined) return { content: p.script };
    if (p.src !== undefined) {
      const content = (await localContent(p, ctx.files)).toString('utf8');
      checkShebang(content, p, 'src');
      return { content };
    }
    const content = await renderTemplate(
      p.template ?? '',
      templateData(host, p.vars),
      ctx.templates,
    );
    checkShebang(content, p, 'template');
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
