import {
  absentFile,
  defineTask,
  fact,
  planWholeFile,
  sh,
  wholeFileProbe,
  Type,
  type Change,
  type Effect,
  type FactQuery,
  type FileFact,
  type Plan,
  type ServiceFact,
  type Static,
  type Step,
} from 'fleetbook';
import { localContent } from './copyFile.ts';

const Params = Type.Object(
  {
    name: Type.String({
      pattern:
        '^[A-Za-z0-9:_.\\\\-]+(@[A-Za-z0-9:_.\\\\-]*)?\\.(service|socket|timer|path|mount|automount|target|slice)$',
      description: 'a unit name with its type, such as app.service or backup.timer',
      doc: 'The unit, with its type: `app.service`, `backup.timer`. Its file is /etc/systemd/system/NAME.',
    }),
    src: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'a local file path',
        doc: 'The unit file on the controller, relative to the project (in a role: to its `files/`), as copyFile reads `src`. Exactly one of src and content when present.',
      }),
    ),
    content: Type.Optional(
      Type.String({
        doc: 'The unit file, given inline. Exactly one of src and content when present.',
      }),
    ),
    state: Type.Optional(
      Type.Union([Type.Literal('present'), Type.Literal('absent')], {
        default: 'present',
        doc: "absent: the unit file is removed (kept in the run's backups); refused while the unit runs (stop it first, with ensureService).",
      }),
    ),
    verify: Type.Optional(
      Type.Boolean({
        default: true,
        doc: 'Check the new file with `systemd-analyze verify` (unknown sections, a missing ExecStart binary) before it replaces the live one, in check mode too.',
      }),
    ),
  },
  {
    additionalProperties: false,
    doc: 'A systemd unit file in /etc/systemd/system, verified, and the daemon-reload it needs. Start and enable it with ensureService; restart it on change with a handler.',
  },
);
export type SystemdUnitParams = Static<typeof Params>;

const DIR = '/etc/systemd/system';
const RELOAD: Step = {
  op: 'run',
  describe: 'systemctl daemon-reload',
  script: sh`systemctl daemon-reload`,
};

/**
 * A unit file of one's own, in /etc/systemd/system: written only after `systemd-analyze verify`
 * accepts it, and followed by the daemon-reload that makes systemd read it (and, on rollback, the
 * one that makes it read the old file again). Running and enabling it is ensureService's job.
 */
export const systemdUnit = defineTask({
  type: 'systemdUnit',
  params: Params,
  rules: [
    { when: 'state', is: ['present'], requireOne: ['src', 'content'] },
    { atMostOne: ['src', 'content'] },
    { when: 'state', is: ['absent'], forbid: ['src', 'content', 'verify'] },
  ],
  describe: (p) => `${p.name}${p.state === 'absent' ? ' absent' : ''}`,
  prepare: async (p, _host, ctx) =>
    p.state === 'absent' ? { content: null } : { content: await localContent(p, ctx.files) },
  probe: (p, prepared): Record<string, FactQuery> => ({
    ...wholeFileProbe({
      path: `${DIR}/${p.name}`,
      owner: 'root',
      group: 'root',
      ...(prepared.content === null ? {} : { content: prepared.content }),
    }),
    service: fact.service(p.name),
  }),
  plan: (p, facts, prepared, ctx): Plan => {
    const path = `${DIR}/${p.name}`;
    const service = facts.service as ServiceFact;
    if (service.manager !== 'systemd')
      return {
        status: 'fail',
        message: `systemdUnit needs systemd running on the host (found: ${service.manager})`,
      };
    if (prepared.content === null)
      return planAbsent(p.name, facts['file:target'] as FileFact, service);
    const file = planWholeFile(ctx.host.name, facts, {
      path,
      content: prepared.content,
      mode: '0644',
      owner: 'root',
      group: 'root',
      ...(p.verify === false ? {} : { validate: 'systemd-analyze verify %s' }),
    });
    if (file.status === 'ok' && service.exists && service.needsDaemonReload)
      return { status: 'change', changes: [pendingReload(path, p.name)] };
    if (file.status !== 'change') return file;
    return { status: 'change', changes: file.changes.map((c) => reloaded(c, p.name)) };
  },
});

/** After the file is written (or put back by a rollback), systemd reads it again. */
function reloaded(c: Change, unit: string): Change {
  const effect: Effect = {
    kind: 'service',
    fact: { name: unit, exists: true, needsDaemonReload: false },
  };
  return {
    ...c,
    steps: [...c.steps, RELOAD],
    effects: [...c.effects, effect],
    afterUndo: [...(c.afterUndo ?? []), RELOAD],
  };
}

/** The file is as wanted, but systemd still runs an older one (edited by hand, or a run cut short). */
function pendingReload(path: string, unit: string): Change {
  return {
    summary: `systemctl daemon-reload (${path} changed since systemd read it)`,
    diff: [{ kind: 'item', sign: '~', text: `daemon-reload for ${unit}` }],
    steps: [RELOAD],
    undo: [],
    effects: [{ kind: 'service', fact: { name: unit, exists: true, needsDaemonReload: false } }],
  };
}

function planAbsent(unit: string, cur: FileFact, service: ServiceFact): Plan {
  if (!cur.exists) return { status: 'ok' };
  if (['active', 'activating', 'reloading'].includes(service.active))
    return {
      status: 'fail',
      message: `${unit} is ${service.active}: stop it first (ensureService state stopped), then remove its file`,
    };
  return {
    status: 'change',
    changes: [
      {
        summary: `remove unit file ${cur.path} (kept in the run's backups)`,
        diff: [{ kind: 'item', sign: '-', text: `unit file ${cur.path}` }],
        steps: [{ op: 'remove', path: cur.path }, RELOAD],
        undo: [],
        afterUndo: [RELOAD],
        effects: [
          { kind: 'file', fact: absentFile(cur.path) },
          { kind: 'service', fact: { name: unit, exists: false } },
        ],
      },
    ],
  };
}
