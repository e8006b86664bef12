/**
 * The postfix tasks the mta-postfix role needs: postfixMap (a lookup table and its postmap'd
 * database as one task) and postfixReload (restart postfix when the configuration it runs with is
 * not the one on disk).
 */
import {
  defineTask,
  fact,
  planWholeFile,
  renderTemplate,
  sha256,
  sh,
  templateData,
  Type,
  wholeFileProbe,
  type Change,
  type Step,
  undoGuards,
} from 'fleetbook';

/** `key value` lines of a postfix lookup table, as `postmap -s` prints them (tab-separated), sorted. */
export function postmapDump(content: string, aliases: boolean): string {
  const rows = content
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const m = aliases ? /^([^:\s]+):\s*(.*)$/.exec(l) : /^(\S+)\s+(.*)$/.exec(l);
      return m === null ? l : `${m[1] ?? ''}${aliases ? ':' : ''}\t${m[2] ?? ''}`;
    })
    .sort();
  return rows.map((r) => `${r}\n`).join('');
}

/**
 * A postfix lookup table and its hash database as one task: the source file (written like
 * copyFile, sensitive if asked) and `postmap` (or `postalias`), run whenever the database does not
 * hold exactly the desired entries. The database is compared by a hash of its dump taken on the
 * host, so check mode knows whether postmap would run, and no entry leaves the host.
 */
export const postfixMap = defineTask({
  type: 'postfixMap',
  params: Type.Object(
    {
      path: Type.String({ pattern: '^/[^\\0\\s]*$' }),
      /** An EJS template, rendered like templateFile's (in a role: from the role's templates/). */
      src: Type.String({ minLength: 1 }),
      vars: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      /** postalias for /etc/aliases (key: value), postmap for other tables (key value). */
      kind: Type.Union([Type.Literal('postmap'), Type.Literal('postalias')]),
      mode: Type.String({ pattern: '^[0-7]{4}$' }),
      sensitive: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  describe: (p) => p.path,
  prepare: async (p, host, ctx) => ({
    content: await renderTemplate(p.src, templateData(host, p.vars), ctx.templates),
  }),
  probe: (p, prepared) => ({
    ...wholeFileProbe({
      path: p.path,
      owner: 'root',
      group: 'root',
      sensitive: p.sensitive === true,
      content: prepared.content,
    }),
    db: fact.command(
      sh`command -v ${p.kind} >/dev/null 2>&1 || { echo ${`no-${p.kind}`}; exit 1; }; [ -e ${`${p.path}.db`} ] || { echo no-db; exit 1; }; ${p.kind} -s ${`hash:${p.path}`} | grep -v -e '^YP_' -e '^@:' | LC_ALL=C sort | sha256sum | cut -c1-64`,
    ),
  }),
  plan: (p, facts, prepared, ctx) => {
    const file = planWholeFile(ctx.host.name, facts, {
      path: p.path,
      content: prepared.content,
      mode: p.mode,
      owner: 'root',
      group: 'root',
      sensitive: p.sensitive === true,
    });
    if (file.status === 'fail' || file.status === 'unknown') return file;
    const db = facts.db;
    const want = sha256(postmapDump(prepared.content, p.kind === 'postalias'));
    if (file.status === 'ok' && db.code === 0 && db.stdout.trim() === want) return { status: 'ok' };
    const build: Step = {
      op: 'run',
      describe: `${p.kind} hash:${p.path}`,
      script: sh`${p.kind} ${`hash:${p.path}`}`,
    };
    const why =
      db.code !== 0
        ? db.stdout.trim().replace(/^no-/, 'no ')
        : 'the database differs from the table';
    const rebuild: Change = {
      summary: `${p.kind} ${p.path} (${file.status === 'change' ? 'table changes' : why})`,
      diff: [{ kind: 'item', sign: '~', text: `${p.kind} hash:${p.path}` }],
      steps: [build],
      // Undone by rebuilding from the table once the runner has restored it.
      undo: [
        {
          op: 'run',
          describe: `${p.kind} hash:${p.path} (restored table)`,
          script: sh`if [ -e ${p.path} ]; then ${p.kind} ${`hash:${p.path}`}; fi`,
        },
      ],
      effects: [],
    };
    if (file.status === 'ok') return { status: 'change', changes: [{ ...rebuild, undo: [] }] };
    // Undo runs in reverse: the rebuild's undo must come after the table is restored, so it is
    // recorded with the table's change (before the runner records the restore of its write).
    const [write, ...rest] = file.changes;
    if (write === undefined) return { status: 'change', changes: [rebuild] };
    return {
      status: 'change',
      changes: [
        { ...write, undo: [...rebuild.undo, ...write.undo] },
        ...rest,
        { ...rebuild, undo: [] },
      ],
    };
  },
});

/**
 * postfix reads main.cf and master.cf when it starts (or reloads). This task reloads it when they
 * differ from what it last loaded, recorded as their sha256 in a stamp file. The stamp is compared
 * with the files' facts, which check mode overlays with what earlier tasks would write, so a dry
 * run reports the reload a real run would do. (A handler would reload too late: the mail tasks
 * that prove the relay run before handlers.)
 */
/** What postfix last loaded: the sha256 of main.cf and master.cf when it was (re)started. */
const LOADED_STAMP = '/var/lib/fleetbook-postfix.loaded';

export const postfixReload = defineTask({
  type: 'postfixReload',
  params: Type.Object({}, { additionalProperties: false }),
  describe: () => 'postfix',
  probe: () => ({
    main: fact.file('/etc/postfix/main.cf'),
    master: fact.file('/etc/postfix/master.cf'),
    stamp: fact.file(LOADED_STAMP, 'content'),
    running: fact.service('postfix'),
  }),
  plan: (_p, facts) => {
    const want = `${facts.main.sha256 ?? '-'}  /etc/postfix/main.cf\n${facts.master.sha256 ?? '-'}  /etc/postfix/master.cf\n`;
    const have = facts.stamp.content?.toString('utf8') ?? '';
    if (have === want && facts.running.active === 'active') return { status: 'ok' };
    const why =
      facts.running.active !== 'active'
        ? `postfix is ${facts.running.active}`
        : 'its configuration changed';
    const restart: Step = {
      op: 'run',
      describe: 'postfix check; systemctl restart postfix',
      script: sh`postfix check && systemctl restart postfix && systemctl is-active --quiet postfix`,
    };
    return {
      status: 'change',
      changes: [
        {
          summary: `restart postfix (${why})`,
          diff: [{ kind: 'item', sign: '~', text: `restart postfix (${why})` }],
          // The stamp records what was on disk when postfix (re)started, as a file the runner
          // writes: a rollback puts the old stamp back with the old main.cf and master.cf.
          steps: [
            restart,
            {
              op: 'write',
              path: LOADED_STAMP,
              content: Buffer.from(want),
              mode: '0644',
              owner: 'root',
              group: 'root',
            },
          ],
          undo: [],
          // After a rollback postfix must run the configuration that is on disk again (if postfix
          // is still installed: a rollback may have removed it).
          afterUndo: [
            {
              op: 'run',
              describe: 'restart postfix (restored configuration)',
              script: sh`systemctl restart postfix`,
              onlyIf: undoGuards.unitPresent('postfix.service'),
            },
          ],
          effects: [
            { kind: 'service', fact: { name: 'postfix', exists: true, active: 'active' } },
            {
              kind: 'file',
              fact: {
                ...facts.stamp,
                exists: true,
                type: 'file',
                mode: '0644',
                owner: 'root',
                group: 'root',
                size: want.length,
                sha256: sha256(want),
                content: Buffer.from(want),
              },
            },
          ],
        },
      ],
    };
  },
});
