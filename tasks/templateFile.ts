import {
  defineTask,
  Type,
  type Static,
  FileTaskFields,
  checkValidate,
  planWholeFile,
  wholeFileProbe,
  desiredFile,
  renderTemplate,
  templateData,
} from 'fleetbook';

const Params = Type.Object(
  {
    src: Type.String({
      minLength: 1,
      description: 'a template path under templates/',
      doc: "An EJS template under the project's `templates/` (or `$FLEETBOOK_TEMPLATES`; in a role: its own `templates/`).",
    }),
    ...FileTaskFields,
    vars: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        doc: 'Over the host vars; the template also sees `host` (name, address, environment, groups).',
      }),
    ),
  },
  {
    additionalProperties: false,
    doc: 'A file rendered from an EJS template (strict: a missing var is an error, not an empty string).',
  },
);
export type TemplateFileParams = Static<typeof Params>;

/** A file rendered from an EJS template in `templates/`, written atomically with mode, owner and group. */
export const templateFile = defineTask({
  type: 'templateFile',
  params: Params,
  check: (params) => {
    checkValidate(params.validate, `templateFile "${params.dest}"`);
  },
  describe: (p) => p.dest,
  // Rendered on the controller before any host is touched: a template error stops the run early.
  prepare: async (p, host, ctx) => ({
    content: await renderTemplate(p.src, templateData(host, p.vars), ctx.templates),
  }),
  probe: (p, prepared) => wholeFileProbe(desiredFile(p, prepared.content)),
  plan: (p, facts, prepared, ctx) =>
    planWholeFile(ctx.host.name, facts, desiredFile(p, prepared.content)),
});
