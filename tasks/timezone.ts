import { defineTask, fact, planFile, Type, type Change, type Plan, type Static } from 'fleetbook';
import { planLink } from './file.ts';

const ZONEINFO = '/usr/share/zoneinfo';

const Params = Type.Object(
  {
    name: Type.String({
      pattern: '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$',
      description: 'a time zone such as Europe/Berlin or Etc/UTC',
      doc: 'The zone, as named under /usr/share/zoneinfo (tzdata).',
    }),
  },
  {
    additionalProperties: false,
    doc: "The host's time zone, as Debian keeps it: /etc/localtime a symlink into /usr/share/zoneinfo, and /etc/timezone.",
  },
);
export type TimezoneParams = Static<typeof Params>;

/** The time zone: /etc/localtime's link and /etc/timezone; undo puts both back. */
export const timezone = defineTask({
  type: 'timezone',
  params: Params,
  describe: (p) => p.name,
  probe: (p) => ({
    zone: fact.file(`${ZONEINFO}/${p.name}`),
    localtime: fact.file('/etc/localtime'),
    file: fact.file('/etc/timezone', 'content'),
  }),
  plan: (p, facts, _prepared, ctx): Plan => {
    if (!facts.zone.exists || facts.zone.type !== 'file')
      return {
        status: 'fail',
        message: `no time zone ${p.name}: ${ZONEINFO}/${p.name} is not a zone file (is tzdata installed?)`,
      };
    // A regular file there (an old copy of a zone) is replaced; it is kept for undo.
    const link = planLink('/etc/localtime', `${ZONEINFO}/${p.name}`, true, facts.localtime);
    if (link.status === 'fail' || link.status === 'unknown') return link;
    const changes: Change[] = link.status === 'change' ? [...link.changes] : [];
    const named = planFile(ctx.host.name, facts.file, {
      path: '/etc/timezone',
      content: `${p.name}\n`,
      mode: '0644',
      owner: 'root',
      group: 'root',
    });
    if (named !== null) changes.push(named);
    return changes.length === 0 ? { status: 'ok' } : { status: 'change', changes };
  },
});
