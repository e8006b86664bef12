/**
 * npm run bench -- [--hosts 40,100] [--repeat 5] [--playbook playbooks/django-production.ts]
 *                  [--skip-tags mail] [--forks N] [--fresh] [--no-converge]
 *
 * On lab hosts lab21..lab(20+N) (lab1-lab20 are the e2e tests'): converge them once (the "first
 * run"), then, interleaved so that noise hits every variant alike, N times per host count:
 *   floor         one OpenSSH `ssh` per host, all at once, one shell command reading what the
 *                 playbook checks (stat, sha256, dpkg-query, getent, systemctl show); wall time
 *                 until the last exits
 *   floor+checks  the same plus the playbook's own shell checks (`unless` guards), for reference
 *   no-change     `fleetbook run PLAYBOOK -i INV --skip-tags mail --json --profile`, whole process
 *   check         the same with --check --diff
 * and prints medians, ratios to the floor, round trips per host and controller peak memory; writes
 * bench/results/<date>-<hosts>.json and bench/results/latest.svg.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { labResetHost } from '../src/lab/index.ts';
import { formatProfile, type Profile } from '../src/reporter/profile.ts';
import { resultsChart, type ChartReport, type ChartSize } from './chart.ts';
import { floorScript, playbookReads, runFloor, sshArgv, type FloorTarget } from './floor.ts';
import { assertNoChange, measureRun, runArgs, type RunMeasure } from './fleetbook-run.ts';
import {
  benchDirs,
  benchHostNames,
  ensureLab,
  fleetbookCli,
  ROOT,
  setSecrets,
  writeInventory,
} from './setup.ts';
import { fmtRatio, median, ratio, sec, table } from './stats.ts';

const { values: opt } = parseArgs({
  options: {
    hosts: { type: 'string', default: '40,100' },
    repeat: { type: 'string', default: '5' },
    playbook: { type: 'string', default: 'playbooks/django-production.ts' },
    'skip-tags': { type: 'string', default: 'mail' },
    vars: { type: 'string', default: 'inventories/development.yaml' },
    forks: { type: 'string' },
    fresh: { type: 'boolean', default: false },
    'no-converge': { type: 'boolean', default: false },
    /** Only redraw bench/results/latest.svg from a results file; no lab, no runs. */
    'chart-from': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (opt.help) {
  process.stdout.write(
    `npm run bench -- [--hosts 40,100[,200]] [--repeat 5] [--playbook FILE] [--skip-tags mail]\n` +
      `                 [--vars inventories/development.yaml] [--forks N] [--fresh] [--no-converge]\n` +
      `npm run bench -- --chart-from bench/results/FILE.json   (redraw bench/results/latest.svg)\n`,
  );
  process.exit(0);
}

if (opt['chart-from'] !== undefined) {
  const saved = JSON.parse(await readFile(opt['chart-from'], 'utf8')) as ChartReport;
  await writeFile(path.join(ROOT, 'bench', 'results', 'latest.svg'), resultsChart(saved));
  process.stdout.write(`redrew bench/results/latest.svg from ${opt['chart-from']}\n`);
  process.exit(0);
}

const sizes = opt.hosts
  .split(',')
  .map((s) => Number(s.trim()))
  .sort((a, b) => a - b);
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 200))
  throw new Error(`--hosts: whole numbers from 1 to 200, comma separated (got ${opt.hosts})`);
const repeat = Number(opt.repeat);
if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat: a whole number >= 1');
const forks = opt.forks === undefined ? undefined : Number(opt.forks);
const skipTags = opt['skip-tags'].split(',').filter((t) => t !== '');
const playbook = opt.playbook;
const maxHosts = Math.max(...sizes);

const log = (s: string): void => {
  process.stdout.write(`${s}\n`);
};
const progress = (s: string): void => {
  process.stderr.write(`# ${s}\n`);
};

log(`fleetbook bench: ${playbook} on ${sizes.join(', ')} lab hosts, ${repeat} rounds`);
if (skipTags.length > 0)
  log(
    `runs use --skip-tags ${skipTags.join(',')}` +
      (skipTags.includes('mail')
        ? ' (verifyMail and sendtestemail send real mail through the smarthost on every run)'
        : ''),
  );

const dirs = await benchDirs();
process.env['FLEETBOOK_SECRETS_DIR'] = dirs.secrets;
const t0Lab = performance.now();
const info = await ensureLab(maxHosts, progress);
progress(`lab ready in ${sec(performance.now() - t0Lab)}: ${info.hosts.length} hosts`);
await setSecrets(info, dirs);

const allHosts = benchHostNames(maxHosts);
const inventories = new Map<number, string>();
for (const n of sizes)
  inventories.set(n, await writeInventory(info, dirs, allHosts.slice(0, n), opt.vars));
const maxInventory = await writeInventory(info, dirs, allHosts, opt.vars);

if (opt.fresh) {
  progress(`--fresh: resetting ${allHosts.length} hosts to a pristine system`);
  for (const h of allHosts) await labResetHost(h);
}

// --- first run: converge every benchmark host once -------------------------------------------
interface FirstRun {
  readonly hosts: number;
  readonly wallMs: number;
  readonly runMs: number;
  readonly changed: number;
  /** Hosts where the first task installed packages: fresh hosts. */
  readonly freshHosts: number;
  /** No failed task and no unreachable host. */
  readonly clean: boolean;
  readonly profile: Profile | null;
}
let firstRun: FirstRun | null = null;
const runOpts = { playbook, skipTags, forks };
const badFirst = (m: RunMeasure): string[] => [
  ...m.notOk.filter((l) => / (failed|unreachable)( \(|$)/.test(l)),
  ...m.notOk.filter((l) => !/ (failed|unreachable)( \(|$)/.test(l)),
];
/** Converge every benchmark host; the first attempt of the first call is the "first run". */
async function converge(first: boolean): Promise<void> {
  // Another process calling labUp while these hosts are busy installing may take them for hung and
  // reboot them (the lab's 10 s health check): converge again, up to twice, and say so.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const m = await measureRun({ ...runOpts, inventory: maxInventory, check: false }, dirs);
    const ok = m.exitCode === 0 && m.failed === 0 && m.unreachable === 0;
    if (first && attempt === 1) {
      firstRun = {
        hosts: m.hosts,
        wallMs: m.wallMs,
        runMs: m.runMs,
        changed: m.changed,
        // An install of the playbook's packages is what makes a run "first".
        freshHosts: new Set(
          m.notOk
            .filter((l) => l.includes(': aptInstall ') && l.endsWith('changed'))
            .map((l) => l.split(':')[0]),
        ).size,
        clean: ok,
        profile: m.profile,
      };
      log(
        `\nfirst run (${m.hosts} hosts${firstRun.freshHosts > 0 ? `, ${firstRun.freshHosts} of them fresh (packages installed)` : ', all already converged'}): ` +
          `${sec(m.wallMs)} wall, ${m.changed} task changes` +
          (ok ? '' : `; NOT CLEAN: ${m.failed} failed tasks, ${m.unreachable} unreachable hosts`),
      );
      if (m.profile !== null) log(formatProfile(m.profile));
    }
    if (ok) return;
    const why = badFirst(m).slice(0, 10).join('\n  ');
    if (attempt === 3) throw new Error(`converging failed 3 times (exit ${m.exitCode}):\n  ${why}`);
    progress(
      `converging run ${attempt} did not finish cleanly (exit ${m.exitCode}); again:\n  ${why}`,
    );
  }
}
if (!opt['no-converge']) {
  progress(`first run: converging ${allHosts.length} hosts (package installs on fresh hosts)`);
  await converge(true);
  // Kept on its own too: it is the expensive figure, and the loop below may still fail.
  await mkdir(path.join(ROOT, 'bench', 'results'), { recursive: true });
  await writeFile(
    path.join(
      ROOT,
      'bench',
      'results',
      `${new Date().toISOString().replace(/:/g, '').replace(/\..*$/, '')}-first-run-${maxHosts}.json`,
    ),
    `${JSON.stringify({ date: new Date().toISOString(), playbook, skipTags, forks: forks ?? 'default', firstRun }, null, 2)}\n`,
  );
}
// A warm-up that also proves the hosts converged: a no-change run must change nothing.
progress('warm-up: a no-change run on every host must change nothing');
assertNoChange(
  await measureRun({ ...runOpts, inventory: maxInventory, check: false }, dirs),
  'warm-up no-change run',
);

// --- what the floor reads -----------------------------------------------------------------------
const targets = new Map<number, FloorTarget[]>();
for (const n of sizes) {
  const inv = inventories.get(n) ?? '';
  targets.set(n, await playbookReads(playbook, inv, skipTags));
}
const sample = targets.get(sizes[0] ?? 0)?.[0];
if (sample === undefined) throw new Error('no hosts');
const r = sample.reads;
log(
  `\nfloor: per host one \`ssh\` (OpenSSH, BatchMode, StrictHostKeyChecking=yes, lab key and known_hosts)` +
    ` running one command derived from the probes of the playbook's ${r.tasks} selected tasks:\n` +
    `  stat + sha256sum of ${r.paths.length} paths, dpkg-query of ${r.packages.length} packages, ` +
    `getent of ${r.users.length} users / ${r.groups.length} groups, systemctl show of ${r.services.join(', ') || 'no services'}` +
    `\n  floor+checks also runs the playbook's ${r.commands.length} shell checks (unless guards, debconf reads)`,
);

// --- the interleaved loop ----------------------------------------------------------------------
type Variant = 'floor' | 'floorChecks' | 'noChange' | 'check';
const VARIANTS: readonly Variant[] = ['floor', 'floorChecks', 'noChange', 'check'];
interface Samples {
  floor: number[];
  floorChecks: number[];
  noChange: RunMeasure[];
  check: RunMeasure[];
  floorBytes: number[];
}
const samples = new Map<number, Samples>(
  sizes.map((n) => [n, { floor: [], floorChecks: [], noChange: [], check: [], floorBytes: [] }]),
);
const startup: number[] = [];
const loadBefore = loadavg();
const loopStart = performance.now();
/** One size in one round: the four variants, kept only if all four succeed. */
async function measureSize(n: number, round: number): Promise<void> {
  const s = samples.get(n);
  const ts = targets.get(n);
  const inv = inventories.get(n);
  if (s === undefined || ts === undefined || inv === undefined) return;
  const got: Partial<Record<Variant, number | RunMeasure>> = {};
  let floorBytes = 0;
  const variants = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length] ?? 'floor');
  const done: string[] = [];
  for (const v of variants) {
    if (v === 'floor' || v === 'floorChecks') {
      const f = await runFloor(ts, v === 'floorChecks');
      got[v] = f.wallMs;
      if (v === 'floor') floorBytes = f.outBytes;
      done.push(`${v} ${sec(f.wallMs)}`);
    } else {
      const m = await measureRun({ ...runOpts, inventory: inv, check: v === 'check' }, dirs);
      assertNoChange(m, `${v} run on ${n} hosts (round ${round + 1})`);
      got[v] = m;
      done.push(
        `${v} ${sec(m.wallMs)} (${m.roundTrips.mean.toFixed(1)} rt/host, ${m.peakRssMb} MB)`,
      );
    }
  }
  const { floor, floorChecks, noChange, check } = got;
  if (
    typeof floor !== 'number' ||
    typeof floorChecks !== 'number' ||
    typeof noChange !== 'object' ||
    typeof check !== 'object'
  )
    throw new Error('a variant was not measured');
  s.floor.push(floor);
  s.floorChecks.push(floorChecks);
  s.noChange.push(noChange);
  s.check.push(check);
  s.floorBytes.push(floorBytes);
  progress(`round ${round + 1}/${repeat}, ${n} hosts: ${done.join(', ')}`);
}

let retries = 0;
for (let round = 0; round < repeat; round++) {
  // A CLI process that loads everything and exits: node + tsx + the CLI's imports.
  startup.push((await fleetbookCli(['--version'], dirs)).wallMs);
  // Rotate the order every round so no variant always runs first (or right after another).
  const order = sizes.map((_, i) => sizes[(i + round) % sizes.length] ?? 0);
  for (const n of order) {
    for (let attempt = 1; ; attempt++) {
      try {
        await measureSize(n, round);
        break;
      } catch (err) {
        // The lab is shared: someone's labUp may have rebooted or removed a host mid-round.
        // Bring it back, converge it, and measure this size and round again.
        if (attempt === 3) throw err;
        retries++;
        progress(
          `round ${round + 1}, ${n} hosts failed (${err instanceof Error ? err.message : String(err)}); restoring the lab and measuring again`,
        );
        await ensureLab(maxHosts, progress);
        await converge(false);
      }
    }
  }
}
const loopMs = performance.now() - loopStart;
const loadAfter = loadavg();

// --- report ---------------------------------------------------------------------------------------
interface SizeResult extends ChartSize {
  readonly noChangeInProcessMs: number;
  readonly checkInProcessMs: number;
  readonly roundTripsPerHost: { readonly noChange: number; readonly check: number };
  readonly connectMaxMs: number;
  readonly stdoutBytes: { readonly noChange: number; readonly check: number };
  readonly floorBytesPerHost: number;
  readonly samples: {
    readonly floorMs: readonly number[];
    readonly floorChecksMs: readonly number[];
    readonly noChangeMs: readonly number[];
    readonly checkMs: readonly number[];
    readonly noChangeInProcessMs: readonly number[];
    readonly checkInProcessMs: readonly number[];
  };
  readonly profile: { readonly noChange: Profile | null; readonly check: Profile | null };
}

const results: SizeResult[] = sizes.map((n) => {
  const s = samples.get(n);
  if (s === undefined) throw new Error('no samples');
  const wall = (xs: readonly RunMeasure[]): number => median(xs.map((m) => m.wallMs));
  const floorMs = median(s.floor);
  // The profile of the median no-change run, for the breakdown.
  const medianOf = (xs: readonly RunMeasure[]): RunMeasure | undefined =>
    [...xs].sort((a, b) => a.wallMs - b.wallMs)[Math.floor(xs.length / 2)];
  return {
    hosts: n,
    floorMs,
    floorChecksMs: median(s.floorChecks),
    noChangeMs: wall(s.noChange),
    checkMs: wall(s.check),
    noChangeRatio: ratio(wall(s.noChange), floorMs),
    checkRatio: ratio(wall(s.check), floorMs),
    noChangeInProcessMs: median(s.noChange.map((m) => m.runMs)),
    checkInProcessMs: median(s.check.map((m) => m.runMs)),
    roundTripsPerHost: {
      noChange: median(s.noChange.map((m) => m.roundTrips.mean)),
      check: median(s.check.map((m) => m.roundTrips.mean)),
    },
    peakRssMb: {
      noChange: Math.max(...s.noChange.map((m) => m.peakRssMb)),
      check: Math.max(...s.check.map((m) => m.peakRssMb)),
    },
    connectMaxMs: median(s.noChange.map((m) => m.connectMaxMs)),
    stdoutBytes: {
      noChange: median(s.noChange.map((m) => m.stdoutBytes)),
      check: median(s.check.map((m) => m.stdoutBytes)),
    },
    floorBytesPerHost: median(s.floorBytes),
    samples: {
      floorMs: s.floor,
      floorChecksMs: s.floorChecks,
      noChangeMs: s.noChange.map((m) => m.wallMs),
      checkMs: s.check.map((m) => m.wallMs),
      noChangeInProcessMs: s.noChange.map((m) => m.runMs),
      checkInProcessMs: s.check.map((m) => m.runMs),
    },
    profile: {
      noChange: medianOf(s.noChange)?.profile ?? null,
      check: medianOf(s.check)?.profile ?? null,
    },
  };
});

log(
  `\nmedians of ${repeat} interleaved rounds (loop took ${sec(loopMs)}; load average ${loadBefore[0]?.toFixed(1) ?? ''} before, ${loadAfter[0]?.toFixed(1) ?? ''} after)`,
);
log(
  table(
    [
      'hosts',
      'floor',
      'floor+checks',
      'no-change',
      'check --diff',
      'no-change/floor',
      'check/floor',
      'round trips/host',
      'peak RSS',
      'in-process',
    ],
    results.map((x) => [
      String(x.hosts),
      sec(x.floorMs),
      sec(x.floorChecksMs),
      sec(x.noChangeMs),
      sec(x.checkMs),
      fmtRatio(x.noChangeRatio),
      fmtRatio(x.checkRatio),
      `${x.roundTripsPerHost.noChange.toFixed(1)} / ${x.roundTripsPerHost.check.toFixed(1)}`,
      `${x.peakRssMb.noChange} / ${x.peakRssMb.check} MB`,
      `${sec(x.noChangeInProcessMs)} / ${sec(x.checkInProcessMs)}`,
    ]),
  ),
);
log(
  `(round trips, peak RSS and in-process time: no-change / check; in-process = the run's own duration` +
    ` (run-end's durationMs: inventory, playbook, secrets, connecting, facts, the hosts' runs, the journal),` +
    ` the rest of the wall time is starting node, loading fleetbook's modules and the CLI)`,
);
log(`fleetbook --version (node + tsx + CLI imports): ${sec(median(startup))} median`);
const growth: {
  from: number;
  to: number;
  hostsRatio: number;
  noChange: number;
  check: number;
  floor: number;
}[] = [];
for (let i = 1; i < results.length; i++) {
  const a = results[i - 1];
  const b = results[i];
  if (a === undefined || b === undefined) continue;
  const g = {
    from: a.hosts,
    to: b.hosts,
    hostsRatio: b.hosts / a.hosts,
    noChange: ratio(b.noChangeMs, a.noChangeMs),
    check: ratio(b.checkMs, a.checkMs),
    floor: ratio(b.floorMs, a.floorMs),
  };
  growth.push(g);
  log(
    `growth ${a.hosts} -> ${b.hosts} hosts (x${g.hostsRatio.toFixed(2)}): no-change x${fmtRatio(g.noChange)}, ` +
      `check x${fmtRatio(g.check)}, floor x${fmtRatio(g.floor)}`,
  );
}
const small = results.find((x) => x.hosts === 3);
if (small !== undefined) {
  const up = median(startup);
  log(
    `target (issue 11) start-up <= 0.20 s and the 3-host no-change run <= 1.0x the floor: ` +
      `start-up ${sec(up)}, no-change ${sec(small.noChangeMs)} against the floor's ${sec(small.floorMs)} ` +
      `(x${fmtRatio(small.noChangeRatio)}): ` +
      (up <= 200 && small.noChangeRatio <= 1 ? 'MET' : 'NOT MET'),
  );
}
const target = results.filter((x) => x.hosts === 40 || x.hosts === 100);
if (target.length > 0)
  log(
    `target (issue 5) no-change and check <= floor at 40 and 100 hosts: ` +
      (target.every((x) => x.noChangeRatio <= 1 && x.checkRatio <= 1) ? 'MET' : 'NOT MET'),
  );

// --- files ------------------------------------------------------------------------------------------
const resultsDir = path.join(ROOT, 'bench', 'results');
await mkdir(resultsDir, { recursive: true });
const stamp = new Date().toISOString().replace(/:/g, '').replace(/\..*$/, '');
const git = (args: string[]): string => {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};
const report = {
  date: new Date().toISOString(),
  commit: git(['rev-parse', 'HEAD']),
  dirty: git(['status', '--porcelain', '--untracked-files=no', 'src', 'tasks', 'playbooks']) !== '',
  machine: {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    loadavgBefore: loadBefore,
    loadavgAfter: loadAfter,
  },
  options: {
    sizes,
    repeat,
    playbook,
    skipTags,
    forks: forks ?? 'fleetbook default (20)',
    vars: opt.vars,
  },
  commands: {
    noChange: `node bin/fleetbook.js ${runArgs({ ...runOpts, inventory: 'INVENTORY', check: false }).join(' ')}`,
    check: `node bin/fleetbook.js ${runArgs({ ...runOpts, inventory: 'INVENTORY', check: true }).join(' ')}`,
    floor: `ssh ${sshArgv(sample, 'SCRIPT').join(' ')}`,
    floorScript: floorScript(sample.reads, false),
    floorChecksScript: floorScript(sample.reads, true),
  },
  reads: sample.reads,
  firstRun,
  startupMs: { median: median(startup), samples: startup },
  retries,
  results,
  growth,
};
const jsonFile = path.join(resultsDir, `${stamp}-${sizes.join('-')}.json`);
await writeFile(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
const svg = resultsChart(report);
await writeFile(path.join(resultsDir, 'latest.svg'), svg);
log(`\nwrote ${path.relative(ROOT, jsonFile)} and bench/results/latest.svg`);
