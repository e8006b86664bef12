// The README's examples, type-checked by `tsc` (test/unit/readme.test.ts keeps them identical).
// tasks/ensureLine.ts
import { defineTask, fact, planFile, Type } from 'fleetbook';

export const ensureLine = defineTask({
  type: 'ensureLine',
  params: Type.Object(
    { path: Type.String({ pattern: '^/' }), line: Type.String() },
    { additionalProperties: false },
  ),
  describe: (p) => p.path,
  probe: (p) => ({ file: fact.file(p.path, 'content') }),
  plan: (p, { file }, _prepared, ctx) => {
    const text = file.content?.toString() ?? '';
    if (text.split('\n').includes(p.line)) return { status: 'ok' };
    const change = planFile(ctx.host.name, file, {
      path: p.path,
      content: `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${p.line}\n`,
      mode: file.mode ?? '0644',
      owner: file.owner ?? 'root',
      group: file.group ?? 'root',
    });
    return change === null ? { status: 'ok' } : { status: 'change', changes: [change] };
  },
});
