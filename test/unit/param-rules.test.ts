// Rules across params, declared as data (src/core/param-rules.ts): one case per row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ruleProblems, describeRules, type ParamRule } from '../../src/core/param-rules.ts';

interface P {
  state?: string;
  src?: string;
  content?: string;
  target?: string;
  mode?: string;
}

const RULES: readonly ParamRule<P>[] = [
  { exactlyOne: ['src', 'content'] },
  { atMostOne: ['target', 'mode'] },
  { when: 'state', is: ['link', 'hard'], require: ['target'] },
  { when: 'state', is: ['absent'], forbid: ['mode'] },
];

const CASES: readonly { params: P; problems: string[] }[] = [
  { params: { src: 'a' }, problems: [] },
  { params: {}, problems: ['src: give src or content; none was given'] },
  {
    params: { src: 'a', content: 'b' },
    problems: ['content: give only one of src or content, not src and content'],
  },
  {
    params: { src: 'a', target: '/x', mode: '0644' },
    problems: ['mode: give only one of target or mode, not target and mode'],
  },
  {
    params: { src: 'a', state: 'link' },
    problems: ['target: required when state is one of "link", "hard"'],
  },
  { params: { src: 'a', state: 'link', target: '/x' }, problems: [] },
  {
    params: { src: 'a', state: 'absent', mode: '0644' },
    problems: ['mode: not allowed when state is "absent"'],
  },
  // A field left out matches none of the listed values (it has no default here).
  { params: { src: 'a', mode: '0644' }, problems: [] },
];

test('rules: a field left out is judged by its default', () => {
  const rules: ParamRule<P>[] = [
    { when: 'state', is: ['present'], requireOne: ['src', 'content'] },
  ];
  assert.deepEqual(
    ruleProblems<P>(rules, {}, { state: 'present' }).map((p) => `${p.field}: ${p.message}`),
    ['src: give src or content when state is "present"'],
  );
  assert.deepEqual(ruleProblems<P>(rules, { state: 'absent' }, { state: 'present' }), []);
  assert.deepEqual(describeRules(rules), ['when state is "present": requires src or content']);
});

for (const c of CASES)
  test(`rules: ${JSON.stringify(c.params)}`, () => {
    assert.deepEqual(
      ruleProblems(RULES, c.params).map((p) => `${p.field}: ${p.message}`),
      c.problems,
    );
  });

test('rules as the task reference lists them', () => {
  assert.deepEqual(describeRules(RULES), [
    'exactly one of src, content',
    'at most one of target, mode',
    'when state is one of "link", "hard": requires target',
    'when state is "absent": forbids mode',
  ]);
  assert.deepEqual(describeRules<P>([{ when: 'src', forbid: ['content', 'mode'] }]), [
    'when src is given: forbids content, mode',
  ]);
});
