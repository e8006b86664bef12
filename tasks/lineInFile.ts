import { checkValidate, defineTask, Type, type Static } from 'fleetbook';
import { checkRegex, EDIT_RULES, EditFields, editProbe, planEdit } from './file-edit.ts';
import { editLine } from './line-edit.ts';

const LineParams = Type.Object(
  {
    ...EditFields,
    line: Type.Optional(
      Type.String({ pattern: '^[^\\n]*$', doc: 'The line (without its newline).' }),
    ),
    regexp: Type.Optional(
      Type.String({
        minLength: 1,
        doc: 'The line to replace: its last match. With state absent: every matching line is removed.',
      }),
    ),
    backrefs: Type.Optional(
      Type.Boolean({
        default: false,
        doc: '`line` holds \\1 … \\9 from `regexp`; when regexp matches nothing, the file is left as it is.',
      }),
    ),
  },
  {
    additionalProperties: false,
    doc: "One line in a text file, as Ansible's lineinfile: replaced where `regexp` last matches, else added (after/before a match, or at the end), or removed.",
  },
);
export type LineInFileParams = Static<typeof LineParams>;

/** One line in a text file, as Ansible's lineinfile (see line-edit.ts for the edit itself). */
export const lineInFile = defineTask({
  type: 'lineInFile',
  params: LineParams,
  rules: [
    ...EDIT_RULES,
    { when: 'state', is: ['present'], require: ['line'] },
    { when: 'state', is: ['absent'], requireOne: ['regexp', 'line'], forbid: ['backrefs'] },
    { when: 'backrefs', is: [true], require: ['regexp'] },
  ],
  check: (p) => {
    const task = `lineInFile "${p.path}"`;
    checkValidate(p.validate, task);
    checkRegex(p.regexp, 'regexp', task);
    checkRegex(p.insertAfter, 'insertAfter', task);
    checkRegex(p.insertBefore, 'insertBefore', task);
  },
  describe: (p) => p.path,
  probe: editProbe,
  plan: (p, facts, _prepared, ctx) =>
    planEdit(p, facts, ctx, (text) => editLine(text, { ...p, state: p.state ?? 'present' })),
});
