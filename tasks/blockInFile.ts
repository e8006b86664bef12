import { checkValidate, defineTask, Type, type Static } from 'fleetbook';
import { checkRegex, EDIT_RULES, EditFields, editProbe, planEdit } from './file-edit.ts';
import { editBlock } from './line-edit.ts';

const BlockParams = Type.Object(
  {
    ...EditFields,
    block: Type.Optional(
      Type.String({ doc: 'The lines between the markers (state present; empty: markers only).' }),
    ),
    marker: Type.Optional(
      Type.String({
        minLength: 1,
        pattern: '^[^\\n]*\\{mark\\}[^\\n]*$',
        description: 'one line containing {mark}',
        default: '# {mark} FLEETBOOK MANAGED BLOCK',
        doc: 'The marker lines; `{mark}` becomes BEGIN and END. Give each block in a file its own.',
      }),
    ),
  },
  {
    additionalProperties: false,
    doc: "A block of lines between marker lines in a text file, as Ansible's blockinfile: replaced, added (after/before a match, or at the end) or removed with its markers.",
  },
);
export type BlockInFileParams = Static<typeof BlockParams>;

/** A block between marker lines in a text file, as Ansible's blockinfile (see line-edit.ts). */
export const blockInFile = defineTask({
  type: 'blockInFile',
  params: BlockParams,
  rules: [
    ...EDIT_RULES,
    { when: 'state', is: ['present'], require: ['block'] },
    { when: 'state', is: ['absent'], forbid: ['block'] },
  ],
  check: (p) => {
    const task = `blockInFile "${p.path}"`;
    checkValidate(p.validate, task);
    checkRegex(p.insertAfter, 'insertAfter', task);
    checkRegex(p.insertBefore, 'insertBefore', task);
  },
  describe: (p) => p.path,
  probe: editProbe,
  plan: (p, facts, _prepared, ctx) =>
    planEdit(p, facts, ctx, (text) =>
      editBlock(text, {
        ...p,
        block: p.block ?? '',
        state: p.state ?? 'present',
        marker: p.marker ?? '# {mark} FLEETBOOK MANAGED BLOCK',
      }),
    ),
});
