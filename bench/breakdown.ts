/**
 * Where a no-change run's time goes, phase by phase, re-enacted in one process with the engine's
 * own functions (in the order runPlaybook calls them), so each phase is timed on its own:
 *
 *   node --import tsx bench/breakdown.ts --hosts 100 [--forks 20] [--repeat 3]
 *
 * Uses the inventory bench/run.ts wrote for that size (run it first) and the same secrets dir.
 */
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const bootMs = performance.now();
const { values: opt } = parseArgs({
  options: {
    hosts: { type: 'string', default: '100' },
    forks: { type: 'string', default: '20' },
    repeat: { type: 'string', default: '3' },
    playbook: { type: 'string', default: 'playbooks/django-production.ts' },
    'skip-tags': { type: 'string', default: 'mail' },
  },
});
const n = Number(opt.hosts);
const forks = Number(opt.forks);
const repeat = Number(opt.repeat);
const skipTags = opt['skip-tags'].split(',').filter((t) => t !== '');
const work = path.join(tmpdir(), 'fleetbook-bench');
process.env['FLEETBOOK_SECRETS_DIR'] = path.join(work, 'secrets');
// the identity bench/run.ts made, which the secrets are encrypted to
// (imported here, after bootMs: its imports are not part of node's boot)
await (await import('./setup.ts')).useBenchIdentity(work);
const inventoryFile = path.join(work, `inventory-${n}.yaml`);

const phases: [string, number][] = [['node + tsx boot, until this script runs', bootMs]];
async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const v = await f();
  phases.push([label, performance.now() - t0]);
  return v;
}

// The modules the CLI imports for `run` (commander, ajv, typebox, ejs, node-ssh, ...).
const mods = await timed('import the engine (runner, reporters, transport, CLI deps)', async () => {
  const [
    run,
    load,
    select,
    pb,
    secrets,
    prep,
    ssh,
    probe,
    open,
    settings,
    facts,
    json,
    redact,
    cli,
  ] = await Promise.all([
    import('../src/runner/run.ts'),
    import('../src/inventory/load.ts'),
    import('../src/inventory/select.ts'),
    import('../src/runner/load-playbook.ts'),
    import('../src/secrets/store.ts'),
    import('../src/runner/prepare.ts'),
    import('../src/transport/connect.ts'),
    import('../src/core/probe-script.ts'),
    import('../src/runner/open-remote.ts'),
    import('../src/runner/settings.ts'),
    import('../src/core/facts.ts'),
    import('../src/reporter/json.ts'),
    import('../src/reporter/redact.ts'),
    import('@commander-js/extra-typings'),
  ]);
  return {
    run,
    load,
    select,
    pb,
    secrets,
    prep,
    ssh,
    probe,
    open,
    settings,
    facts,
    json,
    redact,
    cli,
  };
});
const inv = await timed('loadInventory', () => mods.load.loadInventory(inventoryFile));
const { playbook, file } = await timed('loadPlaybook (import the playbook and tasks/)', () =>
  mods.pb.loadPlaybook(opt.playbook),
);
const hosts = mods.select.targetHosts(inv, playbook.hosts, undefined);
const secrets = await timed('loadSecrets', () =>
  mods.secrets.loadSecrets(inv.environment, playbook.secrets),
);
// A playbook that reads host facts makes its tasks from them (read here before the timings).
const hostFacts = playbook.facts
  ? await (await import('./floor.ts')).readFacts(inventoryFile)
  : new Map<string, unknown>();
const prepared = await timed(`prepareHost x ${hosts.length} (vars, tasks, templates)`, async () => {
  const out = [];
  for (const h of hosts) {
    const view = mods.prep.hostView(playbook, inv, h, secrets.values);
    out.push(
      await mods.prep.prepareTasks(
        playbook,
        file,
        { ...view, facts: hostFacts.get(h.name) as typeof view.facts },
        h,
        { skipTags: skipTags.length > 0 ? skipTags : undefined },
      ),
    );
  }
  return out;
});

type Transport = Awaited<ReturnType<ReturnType<typeof mods.ssh.connector>>>;
// The runner's own connector, so the benchmark opens connections exactly as a run does.
const connect = (i: number): Promise<Transport> => {
  const h = hosts[i];
  if (h === undefined) throw new Error('no host');
  return mods.ssh.connector(h, mods.settings.connectSettings({ acceptNewHostKeys: false }))();
};
/** `limit` at a time, like the runner's p-limit over hosts. */
async function pool<T>(count: number, limit: number, f: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await f(i);
      }
    }),
  );
  return out;
}

const queriesOf = (i: number) =>
  (prepared[i]?.tasks ?? []).flatMap((pt) => Object.values(pt.task.probe(pt.prepared)));
// Deduplicated by fact key, as FactCache batches them.
const allQueries = [
  ...new Map(queriesOf(0).map((q) => [mods.facts.factKey(q), q] as const)).values(),
];
const noCommands = allQueries.filter((q) => q.kind !== 'command');
const onlyCommands = allQueries.filter((q) => q.kind === 'command');

// Imported only now, so the phases above are timed without it.
const { floorScript, readsOf } = await import('./floor.ts');
const rows: [string, number[]][] = [];
const sample = (label: string, ms: number): void => {
  const row = rows.find(([l]) => l === label);
  if (row === undefined) rows.push([label, [ms]]);
  else row[1].push(ms);
};
let probeBytes = 0;
for (let r = 0; r < repeat; r++) {
  let t = performance.now();
  let conns = await pool(hosts.length, forks, connect);
  sample(`connect ${hosts.length} hosts, ${forks} at a time`, performance.now() - t);
  await Promise.all(conns.map((c) => c.close()));
  t = performance.now();
  conns = await Promise.all(hosts.map((_, i) => connect(i)));
  sample(`connect ${hosts.length} hosts, all at once`, performance.now() - t);
  // The floor's one command, over the same open connections: the script's cost without the handshake.
  const floor = floorScript(readsOf(allQueries, prepared[0]?.tasks.length ?? 0), false);
  t = performance.now();
  const remotes = await Promise.all(
    conns.map(async (c, i) => {
      const { remote } = await mods.open.openRemote(
        c,
        `host ${i}`,
        { become: false, asRoot: true },
        'none',
        { waitSeconds: 0, who: 'bench' },
      );
      return remote;
    }),
  );
  await Promise.all(remotes.map((r) => r.exec(floor)));
  sample('the floor command over the open connections (all hosts at once)', performance.now() - t);
  for (const [label, qs] of [
    [`probe round trip, all ${allQueries.length} facts`, allQueries],
    [`probe round trip, without the ${onlyCommands.length} shell checks`, noCommands],
    [`probe round trip, only the ${onlyCommands.length} shell checks`, onlyCommands],
  ] as const) {
    const p = mods.probe.buildProbeScript(qs);
    t = performance.now();
    // As the runner sends it: Remote wraps the script in /bin/sh -c with LC_ALL=C.
    const res = await Promise.all(remotes.map((r) => r.exec(p.script)));
    sample(`${label} (all hosts at once)`, performance.now() - t);
    t = performance.now();
    for (const x of res) p.parse(x.stdout);
    sample(`  parse its output for all hosts`, performance.now() - t);
    if (qs === allQueries) probeBytes = res[0]?.stdout.length ?? 0;
  }
  t = performance.now();
  await Promise.all(conns.map((c) => c.close()));
  sample('close', performance.now() - t);
}

const fmt = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;
process.stdout.write(
  `breakdown of a no-change run's pieces, ${hosts.length} hosts (${prepared[0]?.tasks.length ?? 0} tasks, ${allQueries.length} fact queries per host, probe output ${probeBytes} bytes per host)\n`,
);
for (const [label, ms] of phases) process.stdout.write(`  ${fmt(ms).padStart(9)}  ${label}\n`);
process.stdout.write(`medians of ${repeat}:\n`);
for (const [label, xs] of rows) {
  const s = [...xs].sort((a, b) => a - b);
  process.stdout.write(`  ${fmt(s[Math.floor(s.length / 2)] ?? 0).padStart(9)}  ${label}\n`);
}
process.stdout.write(
  `controller peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB\n`,
);
