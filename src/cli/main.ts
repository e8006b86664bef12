import { useColor } from '../reporter/color.ts';
import { existsSync, readFileSync } from 'node:fs';
import {
  Command,
  InvalidArgumentError,
  Option,
  type CommandUnknownOpts,
} from '@commander-js/extra-typings';
import { ConfigError, errorMessage } from '../core/errors.ts';
import type { RunEvent } from '../runner/events.ts';
import { Redactor } from '../reporter/redact.ts';
import { EXIT } from '../runner/exit-codes.ts';
import { parseSerial, type Serial } from '../runner/rollout.ts';
import { addRunsCommands } from './runs.ts';
import { labCommand } from './lab.ts';
import { demoCommand } from './demo.ts';
import { secretCommand } from './secret.ts';
import { initCommand } from './init.ts';
import { execCommand, factsCommand } from './ad-hoc.ts';
import {
  becomeOption,
  connectTimeoutOption,
  positiveInt,
  privateKeyOption,
  userOption,
} from './args.ts';

/** fleetbook's own package.json, found upwards: this file runs from src/ or from dist/src/. */
function ownPackage(): { version: string } {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    const file = new URL('package.json', dir);
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'fleetbook') return pkg;
    }
    if (dir.pathname === '/') throw new Error('fleetbook: its package.json is missing');
  }
}
const pkg = ownPackage();

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError('expected a whole number of at least 0');
  return n;
}

function percent(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 100)
    throw new InvalidArgumentError('expected a percentage from 0 to 100');
  return n;
}

function serial(value: string): Serial {
  try {
    return parseSerial(value);
  } catch (err) {
    throw new InvalidArgumentError(errorMessage(err));
  }
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

const USAGE_HINT = '(add --help for usage)';

// Module-wide so that fatal errors printed below are masked too.
const redactor = new Redactor();

const program = new Command()
  .name('fleetbook')
  .description('Typed, idempotent configuration playbooks in TypeScript, run over SSH.')
  .version(pkg.version);

program
  .command('run')
  .description('run a playbook against the hosts of an inventory')
  .argument('<playbook>', 'playbook file (.ts or .js) whose default export is definePlaybook(...)')
  .requiredOption('-i, --inventory <file>', 'inventory file (.yaml or .ts)')
  .option(
    '-C, --check',
    'dry run: read every host, change nothing, report what would change',
    false,
  )
  .option('-D, --diff', 'show the diff of every change (file content, attributes, packages)', false)
  .option('-l, --limit <pattern>', 'only these hosts/groups: "web,db", "lab*", "!lab3", "&staging"')
  .option(
    '-e, --extra-vars <vars>',
    'vars that win over all others: key=value (text), a JSON object, or @file.yaml; repeatable',
    (v: string, all: string[]) => [...all, v],
    [] as string[],
  )
  .addOption(userOption())
  .addOption(privateKeyOption())
  .addOption(becomeOption())
  .option('--list-hosts', 'print the hosts this run would target; connect to nothing', false)
  .option('--list-tasks', 'print the tasks each host would run; connect to nothing', false)
  .option('--list-tags', "print the playbook's tags; connect to nothing", false)
  .option(
    '--syntax-check',
    'load and validate the playbook, inventory, vars, tasks and templates; connect to nothing',
    false,
  )
  .option('-f, --forks <n>', 'hosts run in parallel', positiveInt, 20)
  .option(
    '-t, --tags <tags>',
    'only tasks with one of these tags (and tasks tagged "always")',
    list,
  )
  .option('--skip-tags <tags>', 'skip tasks with one of these tags', list)
  .option('--json', 'one JSON event per line on stdout instead of the terminal view', false)
  .option(
    '--no-rollback',
    'keep the changes of a failed host instead of undoing them (for debugging)',
  )
  .option(
    '--serial <n>',
    'roll out in batches of N hosts or N% of them; each batch finishes before the next',
    serial,
  )
  .option(
    '--max-fail-percent <p>',
    'stop the rollout when strictly more than P% of a batch fails',
    percent,
  )
  .option(
    '--any-errors-fatal',
    'stop the whole rollout at the first failed or unreachable host',
    false,
  )
  .option(
    '--retry',
    'only the hosts that failed or were unreachable in the last run of this playbook and inventory',
    false,
  )
  .option(
    '--accept-new-host-keys',
    'trust and record host keys not yet in known_hosts (a changed key is still refused)',
    false,
  )
  .option(
    '--keep-backups <n>',
    'runs whose file backups each host keeps for `fleetbook rollback`; older ones are removed at the end of a run',
    positiveInt,
    10,
  )
  .option(
    '--task-timeout <s>',
    'a task still running after S seconds fails (its command is killed) and is rolled back; a task may set its own timeoutSeconds',
    positiveInt,
    3600,
  )
  .option(
    '--lock-wait <s>',
    'wait up to S seconds for another run holding a host, then leave that host out',
    nonNegativeInt,
    60,
  )
  .addOption(connectTimeoutOption())
  .option(
    '--alive-timeout <s>',
    'declare a host unreachable after S seconds without an answer (keepalives)',
    positiveInt,
    30,
  )
  .option(
    '--profile',
    'after the run, show where the time went per task (probe, plan, apply) across hosts',
    false,
  )
  .option(
    '-v, --verbose',
    'also show details of tasks that were ok, and what commands printed',
    false,
  )
  .addOption(new Option('--no-color', 'plain output'))
  .action(async (playbook, o) => {
    const { parseExtraVars } = await import('../runner/extra-vars.ts');
    const inputs = {
      playbook,
      inventory: o.inventory,
      check: o.check,
      limit: o.limit,
      tags: o.tags,
      skipTags: o.skipTags,
      retry: o.retry,
      extraVars: await parseExtraVars(o.extraVars),
      connection: { user: o.user, key: o.privateKey, become: o.become },
      onSecret: (v: string) => {
        redactor.add(v);
      },
    };
    const views = ['listHosts', 'listTasks', 'listTags', 'syntaxCheck'] as const;
    const listing = views.filter((v) => o[v]);
    if (listing.length > 0) {
      const [{ prepareRun }, inspect] = await Promise.all([
        import('../runner/prepare-run.ts'),
        import('../runner/inspect.ts'),
      ]);
      const run = await prepareRun(inputs, { connecting: false });
      for (const w of run.warnings) process.stderr.write(`fleetbook: warning: ${w}\n`);
      for (const view of listing) process.stdout.write(redactor.redact(`${inspect[view](run)}\n`));
      return;
    }
    // Loaded here, not at the top: `fleetbook --version` or `--help` need none of the engine.
    const [
      { jsonReporter },
      { formatProfile, ProfileCollector },
      { terminalReporter },
      { runPlaybook },
      { liveTerminal },
    ] = await Promise.all([
      import('../reporter/json.ts'),
      import('../reporter/profile.ts'),
      import('../reporter/terminal.ts'),
      import('../runner/run.ts'),
      import('../reporter/live.ts'),
    ]);
    const write = (s: string): void => {
      process.stdout.write(s);
    };
    const report = o.json
      ? jsonReporter(write, redactor)
      : terminalReporter(write, redactor, {
          diff: o.diff,
          color: useColor(o.color),
          verbose: o.verbose,
          live: liveTerminal(),
        });
    const profile = new ProfileCollector();
    const emit = (e: RunEvent): void => {
      report(e);
      if (o.profile) profile.observe(e);
    };
    const result = await runPlaybook(
      {
        ...inputs,
        forks: o.forks,
        rollback: o.rollback,
        acceptNewHostKeys: o.acceptNewHostKeys,
        serial: o.serial,
        maxFailPercent: o.maxFailPercent,
        anyErrorsFatal: o.anyErrorsFatal,
        keepBackups: o.keepBackups,
        diffs: o.diff || o.json,
        taskTimeoutSeconds: o.taskTimeout,
        lockWaitSeconds: o.lockWait,
        connectTimeoutSeconds: o.connectTimeout,
        aliveTimeoutSeconds: o.aliveTimeout,
        redact: (t) => redactor.redact(t),
      },
      emit,
    );
    // Task titles are in the profile: it is masked like every other output.
    if (o.profile)
      write(
        redactor.redact(
          o.json
            ? `${JSON.stringify(profile.summary())}\n`
            : `\n${formatProfile(profile.summary())}\n`,
        ),
      );
    process.exitCode = result.exitCode;
  });

addRunsCommands(program, redactor);
program.addCommand(labCommand());
program.addCommand(demoCommand());
program.addCommand(secretCommand());
program.addCommand(initCommand(pkg.version));
program.addCommand(execCommand(redactor));
program.addCommand(factsCommand(redactor));

// A usage error prints one error and where to read more, not the whole help. Set on every command,
// nested ones too: those built on their own and added (lab, secret, exec, ...) inherit nothing.
const withHint = (c: CommandUnknownOpts): void => {
  c.showHelpAfterError(USAGE_HINT);
  c.commands.forEach(withHint);
};
withHint(program);

try {
  await program.parseAsync();
} catch (err) {
  // The one place that prints fatal errors: the run stopped before touching any host.
  process.stderr.write(redactor.redact(`fleetbook: error: ${errorMessage(err)}\n`));
  if (
    !(err instanceof ConfigError) &&
    err instanceof Error &&
    process.env.FLEETBOOK_DEBUG !== undefined
  ) {
    process.stderr.write(`${err.stack ?? ''}\n`);
  }
  process.exitCode = EXIT.config;
}
