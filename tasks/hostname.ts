import {
  defineFact,
  defineTask,
  fact,
  factEffect,
  planFile,
  sh,
  Type,
  type Change,
  type Plan,
  type Static,
} from 'fleetbook';

/** The kernel's host name, as `hostname` prints it: a fact of its own, so check mode can simulate it. */
export const liveHostname = defineFact<null, string>({
  kind: 'hostname',
  script: () => sh`hostname`,
  parse: (stdout) => [stdout.trim()],
  key: () => '',
});

const Params = Type.Object(
  {
    name: Type.String({
      pattern:
        '^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$',
      description: 'a host name (letters, digits and hyphens; dot-separated labels of at most 63)',
      doc: "The host's name, in /etc/hostname and in the running kernel.",
    }),
  },
  { additionalProperties: false, doc: "The host's name: /etc/hostname and the running system's." },
);
export type HostnameParams = Static<typeof Params>;

/** The host's name, on disk (/etc/hostname) and live; undo puts both back. */
export const hostname = defineTask({
  type: 'hostname',
  params: Params,
  describe: (p) => p.name,
  probe: () => ({ live: liveHostname(null), file: fact.file('/etc/hostname', 'content') }),
  plan: (p, facts, _prepared, ctx): Plan => {
    const changes: Change[] = [];
    const onDisk = planFile(ctx.host.name, facts.file, {
      path: '/etc/hostname',
      content: `${p.name}\n`,
      mode: facts.file.mode ?? '0644',
      owner: 'root',
      group: 'root',
    });
    if (onDisk !== null) changes.push(onDisk);
    if (facts.live !== p.name)
      changes.push({
        summary: `set the running host name: ${facts.live} -> ${p.name}`,
        diff: [{ kind: 'attr', subject: 'host', field: 'name', before: facts.live, after: p.name }],
        steps: [{ op: 'run', describe: `hostname ${p.name}`, script: sh`hostname -- ${p.name}` }],
        undo: [
          { op: 'run', describe: `hostname ${facts.live}`, script: sh`hostname -- ${facts.live}` },
        ],
        effects: [factEffect(liveHostname(null), p.name)],
      });
    return changes.length === 0 ? { status: 'ok' } : { status: 'change', changes };
  },
});
