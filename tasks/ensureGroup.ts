import {
  defineTask,
  fact,
  sh,
  undoGuards,
  Type,
  type Change,
  type GroupFact,
  type Plan,
  type Static,
  AccountName,
} from 'fleetbook';

const Params = Type.Object(
  {
    name: AccountName,
    state: Type.Optional(
      Type.Union([Type.Literal('present'), Type.Literal('absent')], { default: 'present' }),
    ),
    gid: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 4294967294,
        doc: 'The group id; left out, groupadd picks one (and an existing group keeps its own).',
      }),
    ),
    system: Type.Optional(
      Type.Boolean({
        default: true,
        doc: 'A system group (gid below 1000) when it is created, as ensureUser makes its accounts.',
      }),
    ),
  },
  { additionalProperties: false, doc: 'A group, present (with a gid) or absent.' },
);
export type EnsureGroupParams = Static<typeof Params>;

/** A group present (with its gid, if given) or absent; undo puts it back as it was. */
export const ensureGroup = defineTask({
  type: 'ensureGroup',
  params: Params,
  rules: [{ when: 'state', is: ['absent'], forbid: ['gid', 'system'] }],
  describe: (p) => p.name,
  probe: (p) => ({ group: fact.group(p.name) }),
  plan: (p, facts): Plan => {
    const g = facts.group;
    if (p.state === 'absent') return g.exists ? change(removeGroup(g)) : { status: 'ok' };
    if (!g.exists) return change(createGroup(p));
    if (p.gid !== undefined && g.gid !== p.gid) return change(regid(g, p.gid));
    return { status: 'ok' };
  },
});

function change(c: Change): Plan {
  return { status: 'change', changes: [c] };
}

function groupFact(name: string, gid: number | null, exists = true): GroupFact {
  return { name, exists, gid, members: [] };
}

function createGroup(p: EnsureGroupParams): Change {
  const args = [
    ...(p.system !== false ? ['--system'] : []),
    ...(p.gid !== undefined ? ['--gid', String(p.gid)] : []),
  ];
  const what = `group ${p.name}${p.gid !== undefined ? ` (gid ${p.gid})` : ''}`;
  return {
    summary: `create ${what}`,
    diff: [{ kind: 'item', sign: '+', text: what }],
    steps: [
      { op: 'run', describe: `groupadd ${p.name}`, script: sh`groupadd ${args} -- ${p.name}` },
    ],
    // Only while no user has it as primary group (else groupdel would fail halfway through a
    // rollback) and no file has it (else they would be left with a number for a group).
    undo: [
      {
        op: 'run',
        describe: `groupdel ${p.name}`,
        script: sh`if getent group ${p.name} >/dev/null; then groupdel -- ${p.name}; fi`,
        onlyIf: sh`${undoGuards.noPrimaryUsers(p.name)}${undoGuards.groupOwnsNothing(p.name)}`,
        removes: undoGuards.takes(`group:${p.name}`),
      },
    ],
    effects: [{ kind: 'group', fact: groupFact(p.name, p.gid ?? null) }],
  };
}

function regid(g: GroupFact, gid: number): Change {
  return {
    summary: `change the gid of group ${g.name}: ${String(g.gid)} -> ${gid} (files keep the old gid)`,
    diff: [
      {
        kind: 'attr',
        subject: `group ${g.name}`,
        field: 'gid',
        before: String(g.gid),
        after: String(gid),
      },
    ],
    steps: [
      {
        op: 'run',
        describe: `groupmod --gid ${gid} ${g.name}`,
        script: sh`groupmod --gid ${String(gid)} -- ${g.name}`,
      },
    ],
    undo: [
      {
        op: 'run',
        describe: `groupmod --gid ${String(g.gid)} ${g.name}`,
        script: sh`groupmod --gid ${String(g.gid)} -- ${g.name}`,
      },
    ],
    effects: [{ kind: 'group', fact: { ...g, gid } }],
  };
}

/** Its undo makes it again with the same gid and members. */
function removeGroup(g: GroupFact): Change {
  const members = g.members ?? [];
  return {
    summary: `remove group ${g.name} (gid ${String(g.gid)}${members.length > 0 ? `, members ${members.join(',')}` : ''})`,
    diff: [{ kind: 'item', sign: '-', text: `group ${g.name} (gid ${String(g.gid)})` }],
    steps: [{ op: 'run', describe: `groupdel ${g.name}`, script: sh`groupdel -- ${g.name}` }],
    undo: [
      {
        op: 'run',
        describe: `groupadd --gid ${String(g.gid)} ${g.name}`,
        script: sh`groupadd --gid ${String(g.gid)} -- ${g.name}${members.length > 0 ? sh` && gpasswd -M ${members.join(',')} -- ${g.name} >/dev/null` : sh``}`,
      },
    ],
    effects: [{ kind: 'group', fact: groupFact(g.name, null, false) }],
  };
}
