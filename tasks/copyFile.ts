import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ConfigError,
  defineTask,
  Type,
  type Static,
  FileTaskFields,
  checkValidate,
  planWholeFile,
  wholeFileProbe,
  desiredFile,
} from 'fleetbook';

const Params = Type.Object(
  {
    src: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'a local file path',
        doc: 'A file on the controller, relative to the project (in a role: to its `files/`). Exactly one of src and content.',
      }),
    ),
    content: Type.Optional(
      Type.String({ doc: "The file's content, given inline. Exactly one of src and content." }),
    ),
    ...FileTaskFields,
  },
  {
    additionalProperties: false,
    doc: 'A file copied from the controller or given inline, with mode and owner.',
  },
);
export type CopyFileParams = Static<typeof Params>;

/** `content`, or the bytes of the controller's file `src` (relative to `root`): a ConfigError naming src if unreadable. */
export async function localContent(
  p: { readonly src?: string; readonly content?: string },
  root: string,
): Promise<Buffer> {
  if (p.content !== undefined) return Buffer.from(p.content, 'utf8');
  const src = p.src ?? '';
  const abs = path.resolve(root, src);
  try {
    return await readFile(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : (err as Error).message;
    throw new ConfigError(
      `src: cannot read local file ${src} (${why}; paths are relative to ${root})`,
      { field: 'src' },
    );
  }
}

/** A file copied from the controller (`src`) or given inline (`content`), written atomically with mode, owner and group. */
export const copyFile = defineTask({
  type: 'copyFile',
  params: Params,
  rules: [{ exactlyOne: ['src', 'content'] }],
  check: (params) => {
    checkValidate(params.validate, `copyFile "${params.dest}"`);
  },
  describe: (p) => p.dest,
  // The local file is read on the controller before any host is touched.
  prepare: async (p, _host, ctx) => ({ content: await localContent(p, ctx.files) }),
  probe: (p, prepared) => wholeFileProbe(desiredFile(p, prepared.content)),
  plan: (p, facts, prepared, ctx) =>
    planWholeFile(ctx.host.name, facts, desiredFile(p, prepared.content)),
});
