import {
  defineTask,
  fact,
  ServiceName,
  AbsPath,
  sh,
  Type,
  TaskFailure,
  joinScripts,
  type Change,
  type FileFact,
  type Plan,
  type RemoteShell,
  type Script,
  type ServiceFact,
  type VerifyAction,
  type Static,
  undoGuards,
} from 'fleetbook';

const Params = Type.Object(
  {
    name: {
      ...ServiceName,
      doc: 'A unit name ("nginx", "nginx.service") or a sysv init script name.',
    },
    action: Type.Optional(
      Type.Union([Type.Literal('restart'), Type.Literal('reload')], { default: 'restart' }),
    ),
    force: Type.Optional(
      Type.Boolean({ default: false, doc: 'Act even when not notified (a one-off restart).' }),
    ),
    activeTimeoutSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 3600,
        default: 30,
        doc: 'How long to wait for the service to become active after the action.',
      }),
    ),
    settleSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 300,
        doc: 'How long the service must keep going after the action before it counts: a reload is often only a signal (nginx), and a restart can die a moment after "active". Default 1 (reload), 2 (restart).',
      }),
    ),
    logFiles: Type.Optional(
      Type.Array(AbsPath, {
        uniqueItems: true,
        doc: 'Log files the service writes its errors to, besides the journal: lines they gain during the action that match `failPattern` fail the task. Default: the known error log of nginx and apache2, none for other services.',
      }),
    ),
    failPattern: Type.Optional(
      Type.String({
        minLength: 1,
        pattern: '^[^\\n]*$',
        description: 'one line',
        doc: 'An extended regular expression (grep -E, case-insensitive) for a log line that means failure.',
      }),
    ),
  },
  {
    additionalProperties: false,
    doc: 'Restart or reload a service, only when notified (or forced). "active" is not proof: it fails when systemctl does, when the journal or error logs gain error lines during the action, or when the service is not active and steady afterwards.',
  },
);

export type ServiceRestartParams = Static<typeof Params>;

/** The bare name systemd and `service` understand for the unit file paths: "nginx.service" -> "nginx". */
function baseName(name: string): string {
  return name.replace(/\.service$/, '');
}

/** Where a unit (or init script) for the service may live; a file task earlier in the play may be about to write one. */
export function unitFilePaths(name: string): string[] {
  const base = baseName(name);
  // A name with another suffix (".socket", ".timer") is a unit name as is; otherwise it is a service.
  const unit = /\.[a-z]+$/.test(name) && !name.endsWith('.service') ? name : `${base}.service`;
  return [
    `/etc/systemd/system/${unit}`,
    `/lib/systemd/system/${unit}`,
    `/usr/lib/systemd/system/${unit}`,
    `/etc/init.d/${base}`,
  ];
}

export const serviceRestart = defineTask({
  type: 'serviceRestart',
  params: Params,
  describe: (p) => `${p.action ?? 'restart'} ${p.name}`,
  probe: (p) => {
    const spec: Record<string, ReturnType<typeof fact.file> | ReturnType<typeof fact.service>> = {
      service: fact.service(p.name),
    };
    for (const path of unitFilePaths(p.name)) spec[`unit:${path}`] = fact.file(path);
    return spec;
  },
  plan: (p, facts, _prepared, ctx): Plan => {
    if (!ctx.notified && p.force !== true) return { status: 'ok', note: 'not notified' };
    const action = p.action ?? 'restart';
    const service = facts.service as ServiceFact;
    const units = unitFilePaths(p.name)
      .map((path) => facts[`unit:${path}`] as FileFact)
      .filter((f) => f.exists);
    const initScript = units.find((f) => f.path.startsWith('/etc/init.d/'));
    const systemdUnit = units.find((f) => !f.path.startsWith('/etc/init.d/'));

    if (service.enabled === 'masked') {
      return {
        status: 'fail',
        message: `service ${p.name} is masked; unmask it before it can be ${action}ed`,
      };
    }

    let manager: 'systemd' | 'sysv';
    if (
      service.manager === 'systemd' &&
      (service.exists || systemdUnit !== undefined || initScript !== undefined)
    ) {
      // systemd runs init scripts through its sysv generator, so systemctl handles both.
      manager = 'systemd';
    } else if (
      service.manager === 'sysv' ||
      (service.manager === 'none' && initScript !== undefined)
    ) {
      manager = 'sysv';
    } else if (service.manager === 'none' && systemdUnit !== undefined) {
      return {
        status: 'fail',
        message: `${systemdUnit.path} exists but systemd is not running on this host, so ${p.name} cannot be ${action}ed`,
      };
    } else {
      // Nothing to restart: no loaded unit, no unit file, no init script.
      //
      // The plan cannot tell check mode from a real run, so the outcome must be honest in both:
      // - In check mode, earlier tasks' file writes are overlaid, but a unit installed by a package
      //   (aptInstall) is not a file effect the runner can simulate. "fail" would be a false failure
      //   for the common "install nginx, then restart it" play, which DESIGN.md forbids.
      // - "change" would claim a restart that may well be impossible.
      // - In a real run the facts are real: whatever was to install the unit has run, and it is
      //   not there, so the restart cannot happen. A real run cannot act on `unknown`, and the
      //   runner reports it as failed with this reason (src/runner/host-run.ts), which is the truth.
      // So: `unknown`, with a reason that reads right in both modes.
      return {
        status: 'unknown',
        reason:
          `service ${p.name} is not installed yet (no loaded unit, no unit file or init script at ` +
          `${unitFilePaths(p.name).join(', ')}); an earlier task may install it — if none does, it cannot be ${action}ed`,
      };
    }
    const change = restartChange(p.name, action, manager, {
      settleSeconds: p.settleSeconds ?? (action === 'reload' ? 1 : 2),
      logFiles: p.logFiles ?? knownErrorLogs(p.name),
      failPattern: p.failPattern ?? DEFAULT_FAIL_PATTERN,
    });
    return {
      status: 'change',
      changes: [change],
      verify: [
        activeCheck(p.name, manager, p.activeTimeoutSeconds ?? 30, {
          settleMs: (p.settleSeconds ?? 2) * 1000,
        }),
      ],
    };
  },
});

/** Words an error line of a log carries (nginx `[emerg]`, `error:`, systemd `status=1/FAILURE`). */
export const DEFAULT_FAIL_PATTERN = '\\b(emerg|alert|crit|error|failed|failure|fatal)\\b';

/** Services whose errors go to a file rather than the journal. */
const ERROR_LOGS: Readonly<Record<string, readonly string[]>> = {
  nginx: ['/var/log/nginx/error.log'],
  apache2: ['/var/log/apache2/error.log'],
};

export function knownErrorLogs(name: string): string[] {
  return [...(ERROR_LOGS[baseName(name)] ?? [])];
}

export interface ActionProof {
  /** Seconds to wait after the action before judging it. */
  readonly settleSeconds: number;
  /** Files whose new lines matching failPattern mean the action failed. */
  readonly logFiles: readonly string[];
  readonly failPattern: string;
}

/**
 * The restart or reload, and its proof, as one script. "active" is not proof: a reload is often a
 * signal the service acts on later (nginx keeps its old configuration when the new one cannot
 * bind), and systemd says "active" throughout. So the script notes where each log file ends,
 * acts, waits `settleSeconds`, and fails with the lines that appeared since: the unit's journal
 * (for a reload every line matching failPattern, for a restart those of priority err or worse)
 * and the log files' new lines matching failPattern.
 */
export function actionScript(
  name: string,
  action: 'restart' | 'reload',
  manager: 'systemd' | 'sysv',
  proof: ActionProof,
): Script {
  const act =
    manager === 'systemd'
      ? // daemon-reload first, also before a reload: a unit file written by an earlier task
        // (ExecReload=, Environment=) is otherwise ignored.
        sh`systemctl daemon-reload && systemctl ${action} -- ${name}`
      : sh`service ${baseName(name)} ${action}`;
  const pattern = proof.failPattern;
  const journal =
    manager === 'systemd'
      ? action === 'reload'
        ? sh`journalctl -u ${name} --since="@$fb_t0" --no-pager -o short-iso 2>/dev/null | grep -i -E -e ${pattern} || true`
        : sh`journalctl -u ${name} --since="@$fb_t0" -p err --no-pager -o short-iso 2>/dev/null | grep -v -e '^-- ' || true`
      : sh`:`;
  const logs = proof.logFiles.map(
    (f, i) => sh`fb_s${i}=$(stat -c %s -- ${f} 2>/dev/null || echo 0)`,
  );
  const scans = proof.logFiles.map(
    (f, i) =>
      sh`fb_l=$(tail -c +$((fb_s${i} + 1)) -- ${f} 2>/dev/null | grep -i -E -e ${pattern}); [ -z "$fb_l" ] || printf '%s:\n%s\n' ${f} "$fb_l"`,
  );
  return sh`fb_t0=$(date +%s)
${joinScripts(logs)}
fb_out=$( { ${act}; } 2>&1 ); fb_rc=$?
if [ "$fb_rc" -ne 0 ]; then
  printf '%s\n' "$fb_out" >&2
  ${manager === 'systemd' ? sh`journalctl -u ${name} --since="@$fb_t0" -n 20 --no-pager -o short-iso >&2 2>/dev/null || true` : sh`:`}
  exit "$fb_rc"
fi
sleep ${proof.settleSeconds}
fb_bad=$( { ${joinScripts([journal, ...scans], '\n')}\n} 2>/dev/null )
if [ -n "$fb_bad" ]; then
  printf '%s\n' "$fb_bad" >&2
  echo ${`${name} logged errors after the ${action} (above)${action === 'reload' ? '; it may still run its old configuration' : ''}`} >&2
  exit 5
fi
`;
}

export function restartChange(
  name: string,
  action: 'restart' | 'reload',
  manager: 'systemd' | 'sysv',
  proof: ActionProof = { settleSeconds: 0, logFiles: [], failPattern: DEFAULT_FAIL_PATTERN },
): Change {
  const step = {
    op: 'run',
    describe: `${action} ${name}`,
    script: actionScript(name, action, manager, proof),
  } as const;
  return {
    summary: `${action} service ${name}`,
    diff: [{ kind: 'item', sign: '~', text: `${action} ${name}` }],
    steps: [step],
    // A restart cannot be undone. On rollback the runner restores the files this restart depended
    // on, then replays the restart (afterUndo) so the service runs with the restored configuration.
    // Not when the rollback removed the service (its package purged, its unit file gone).
    undo: [],
    afterUndo: [
      {
        ...step,
        onlyIf:
          manager === 'systemd'
            ? undoGuards.unitPresent(name)
            : undoGuards.present(`/etc/init.d/${name}`),
      },
    ],
    effects: [{ kind: 'service', fact: { name, exists: true, active: 'active' } }],
  };
}

export interface ActiveCheckOptions {
  /** Milliseconds between polls. */
  readonly intervalMs?: number;
  /** How long the service must stay active before it counts (catches a crash right after start). */
  readonly settleMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What one poll of the service said. */
export interface ActivePoll {
  /** `systemctl is-active` word: active, activating, deactivating, reloading, inactive, failed, ... */
  readonly state: string;
  /** systemd's NRestarts (Restart= loops), when known. */
  readonly restarts: number | null;
}

/** The poll script: one round trip per poll. */
export function pollScript(name: string, manager: 'systemd' | 'sysv'): Script {
  if (manager === 'sysv') {
    return sh`if service ${baseName(name)} status >/dev/null 2>&1; then echo active; else echo inactive; fi; echo`;
  }
  return sh`systemctl is-active -- ${name} 2>/dev/null; systemctl show -p NRestarts --value -- ${name} 2>/dev/null`;
}

export function parsePoll(stdout: string): ActivePoll {
  const [state = '', restarts = ''] = stdout.split('\n').map((l) => l.trim());
  return {
    state: state === '' ? 'unknown' : state,
    restarts: /^\d+$/.test(restarts) ? Number(restarts) : null,
  };
}

/** States that can still turn into "active" without anyone acting. */
const TRANSIENT = new Set(['activating', 'deactivating', 'reloading', 'refreshing']);

export function journalScript(name: string): Script {
  return sh`journalctl -u ${name} -n 20 --no-pager -o short 2>&1`;
}

/**
 * After the restart: the service must reach "active" within the timeout and stay there for a
 * moment without systemd restarting it (a unit with Restart= that crashes at start shows
 * "active" for an instant, then "activating (auto-restart)").
 */
export function activeCheck(
  name: string,
  manager: 'systemd' | 'sysv',
  timeoutSeconds: number,
  opts: ActiveCheckOptions = {},
): VerifyAction {
  const intervalMs = opts.intervalMs ?? 500;
  const settleMs = opts.settleMs ?? 1000;
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  return {
    describe: `check that ${name} is active`,
    async run(shell: RemoteShell) {
      const start = now();
      const deadline = start + timeoutSeconds * 1000;
      let activeSince: { at: number; restarts: number | null } | undefined;
      let last: ActivePoll;
      for (;;) {
        const res = await shell.exec(pollScript(name, manager));
        last = parsePoll(res.stdout);
        const t = now();
        if (last.state === 'active') {
          if (
            activeSince === undefined ||
            (last.restarts !== null &&
              activeSince.restarts !== null &&
              last.restarts !== activeSince.restarts)
          ) {
            activeSince = { at: t, restarts: last.restarts };
          }
          // At the deadline, two active samples in a row (no restart between) are enough.
          if (t - activeSince.at >= settleMs || (t >= deadline && activeSince.at < t)) {
            return `${name} is active after ${((t - start) / 1000).toFixed(1)}s`;
          }
        } else if (TRANSIENT.has(last.state)) {
          activeSince = undefined;
        } else {
          // inactive / failed / unknown: it stopped on its own; waiting longer will not help.
          break;
        }
        if (t >= deadline) break;
        await sleep(Math.min(intervalMs, Math.max(0, deadline - t)));
      }
      const waited = ((now() - start) / 1000).toFixed(1);
      const journal =
        manager === 'systemd'
          ? (await shell.exec(journalScript(name))).stdout.trimEnd()
          : undefined;
      const message = TRANSIENT.has(last.state)
        ? `service ${name} is not active: still "${last.state}" after ${waited}s (activeTimeoutSeconds ${timeoutSeconds})`
        : `service ${name} is not active: it is "${last.state}" after the ${manager === 'systemd' ? 'restart' : 'init script ran'} (${waited}s)`;
      throw new TaskFailure(
        message,
        journal === undefined || journal === ''
          ? undefined
          : `last 20 journal lines of ${name}:\n${journal}`,
      );
    },
  };
}
