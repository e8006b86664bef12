// lineInFile's and blockInFile's edits (tasks/line-edit.ts), one case per row: the file before,
// the edit, the file after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editBlock, editLine, type BlockEdit, type LineEdit } from '../../tasks/line-edit.ts';

const CONF = 'PermitRootLogin yes\n#Port 22\nUsePAM yes\n';

const LINES: readonly { what: string; before: string; edit: LineEdit; after: string }[] = [
  {
    what: 'regexp matches: its last match is replaced',
    before: CONF,
    edit: { state: 'present', regexp: '^#?PermitRootLogin', line: 'PermitRootLogin no' },
    after: 'PermitRootLogin no\n#Port 22\nUsePAM yes\n',
  },
  {
    what: 'the line is there already: nothing changes',
    before: CONF,
    edit: { state: 'present', line: 'UsePAM yes' },
    after: CONF,
  },
  {
    what: 'no match, no line: added at the end',
    before: CONF,
    edit: { state: 'present', regexp: '^MaxAuthTries', line: 'MaxAuthTries 3' },
    after: `${CONF}MaxAuthTries 3\n`,
  },
  {
    what: 'added after the last line matching insertAfter',
    before: CONF,
    edit: { state: 'present', line: 'Port 2222', insertAfter: '^#Port' },
    after: 'PermitRootLogin yes\n#Port 22\nPort 2222\nUsePAM yes\n',
  },
  {
    what: 'added before the last line matching insertBefore',
    before: CONF,
    edit: { state: 'present', line: 'Port 2222', insertBefore: '^UsePAM' },
    after: 'PermitRootLogin yes\n#Port 22\nPort 2222\nUsePAM yes\n',
  },
  {
    what: 'insertBefore BOF',
    before: CONF,
    edit: { state: 'present', line: '# managed', insertBefore: 'BOF' },
    after: `# managed\n${CONF}`,
  },
  {
    what: 'insertAfter matching nothing: at the end',
    before: CONF,
    edit: { state: 'present', line: 'X 1', insertAfter: '^Nothing' },
    after: `${CONF}X 1\n`,
  },
  {
    what: 'a last line without a newline gets one before the new line',
    before: 'a\nb',
    edit: { state: 'present', line: 'c' },
    after: 'a\nb\nc\n',
  },
  {
    what: 'a replaced last line without a newline stays without one',
    before: 'a\nb',
    edit: { state: 'present', regexp: '^b', line: 'B' },
    after: 'a\nB',
  },
  {
    what: 'backrefs: groups of the match in the new line',
    before: 'listen 80 default;\n',
    edit: {
      state: 'present',
      regexp: '^listen (\\d+) (.*);$',
      line: 'listen 8080 \\2;',
      backrefs: true,
    },
    after: 'listen 8080 default;\n',
  },
  {
    what: 'backrefs and no match: the file is left as it is',
    before: CONF,
    edit: { state: 'present', regexp: '^listen', line: 'listen \\1', backrefs: true },
    after: CONF,
  },
  {
    what: 'absent by regexp: every matching line goes',
    before: 'a=1\nb=2\na=3\n',
    edit: { state: 'absent', regexp: '^a=' },
    after: 'b=2\n',
  },
  {
    what: 'absent by line',
    before: 'a=1\nb=2\n',
    edit: { state: 'absent', line: 'b=2' },
    after: 'a=1\n',
  },
  {
    what: 'an empty file gets its line',
    before: '',
    edit: { state: 'present', line: 'x' },
    after: 'x\n',
  },
];

for (const c of LINES)
  test(`editLine: ${c.what}`, () => {
    assert.equal(editLine(c.before, c.edit), c.after);
  });

const M = '# {mark} APP';
const BLOCK = 'a\n# BEGIN APP\nold\n# END APP\nb\n';

const BLOCKS: readonly { what: string; before: string; edit: BlockEdit; after: string }[] = [
  {
    what: 'no block yet: added at the end with its markers',
    before: 'a\n',
    edit: { state: 'present', marker: M, block: 'x\ny' },
    after: 'a\n# BEGIN APP\nx\ny\n# END APP\n',
  },
  {
    what: 'a block there: replaced between its markers',
    before: BLOCK,
    edit: { state: 'present', marker: M, block: 'new\n' },
    after: 'a\n# BEGIN APP\nnew\n# END APP\nb\n',
  },
  {
    what: 'the same block: nothing changes',
    before: BLOCK,
    edit: { state: 'present', marker: M, block: 'old' },
    after: BLOCK,
  },
  {
    what: 'absent: the block goes with its markers',
    before: BLOCK,
    edit: { state: 'absent', marker: M, block: '' },
    after: 'a\nb\n',
  },
  {
    what: 'absent and no block: nothing changes',
    before: 'a\n',
    edit: { state: 'absent', marker: M, block: '' },
    after: 'a\n',
  },
  {
    what: 'added after insertAfter',
    before: 'a\nb\n',
    edit: { state: 'present', marker: M, block: 'x', insertAfter: '^a$' },
    after: 'a\n# BEGIN APP\nx\n# END APP\nb\n',
  },
  {
    what: 'another marker is another block',
    before: BLOCK,
    edit: { state: 'present', marker: '# {mark} OTHER', block: 'z', insertBefore: 'BOF' },
    after: `# BEGIN OTHER\nz\n# END OTHER\n${BLOCK}`,
  },
];

for (const c of BLOCKS)
  test(`editBlock: ${c.what}`, () => {
    assert.equal(editBlock(c.before, c.edit), c.after);
  });
