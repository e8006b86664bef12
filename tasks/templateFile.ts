import {
  defineTask,
  normMode,
  Type,
  type Static,
  type TaskOptions,
  AbsPath,
  AccountName,
  Mode,
  checkValidate,
  planWholeFile,
  wholeFileProbe,
  renderTemplate,
  templateData,
} from '../src/index.ts';

const Params = Type.Object(
  {
    /** Template path relative to the templates directory (`templates/`, or `$FLEETBOOK_TEMPLATES`). */
    src: Type.String({ minLength: 1, description: 'a template path under templates/' }),
    dest: AbsPath,
    /** Over the host vars; the template also sees `host` (name, address, environment, groups). */
    vars: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    mode: Type.Optional(Mode),
    owner: Type.Optional(AccountName),
    group: Type.Optional(AccountName),
    /** Command run on the temp file before it replaces the live one; must contain `%s` (the temp path). */
    validate: Type.Optional(Type.String({ minLength: 1 })),
    /** Keep the rendered content out of diffs and logs (changed lines shown, values masked). */
    sensitive: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type TemplateFileParams = Static<typeof Params>;

const base = defineTask({
  type: 'templateFile',
  params: Params,
  describe: (p) => p.dest,
  // Rendered on the controller before any host is touched: a template error stops the run early.
  prepare: async (p, host) => ({
    content: await renderTemplate(p.src, templateData(host, p.vars)),
  }),
  probe: (p) =>
    wholeFileProbe({
      path: p.dest,
      owner: p.owner ?? 'root',
      group: p.group ?? 'root',
      sensitive: p.sensitive === true,
    }),
  plan: (p, facts, prepared, ctx) =>
    planWholeFile(ctx.host.name, facts, {
      path: p.dest,
      content: prepared.content,
      mode: normMode(p.mode ?? '0644'),
      owner: p.owner ?? 'root',
      group: p.group ?? 'root',
      sensitive: p.sensitive === true,
      ...(p.validate !== undefined ? { validate: p.validate } : {}),
    }),
});

/** A file rendered from an EJS template in `templates/`, written atomically with mode, owner and group. */
export const templateFile: typeof base = Object.assign(
  (params: TemplateFileParams, options?: TaskOptions) => {
    const task = base(params, options);
    checkValidate(params.validate, `templateFile "${params.dest}"`);
    return task;
  },
  { type: base.type, schema: base.schema },
);
