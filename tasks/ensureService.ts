import {
  ConfigError,
  defineTask,
  fact,
  ServiceName,
  sh,
  Type,
  type Change,
  type DiffPart,
  type FileFact,
  type Plan,
  type ServiceFact,
  type Static,
  type Step,
} from 'fleetbook';
import { activeCheck, unitFilePaths } from './serviceRestart.ts';

const Params = Type.Object(
  {
    name: { ...ServiceName, doc: 'A systemd unit ("nginx", "nginx.service", "backup.timer").' },
    state: Type.Optional(
      Type.Union([Type.Literal('started'), Type.Literal('stopped')], {
        doc: 'started: running now; stopped: not running. Left out: whether it runs is not managed.',
      }),
    ),
    enabled: Type.Optional(
      Type.Boolean({
        doc: 'Started at boot (systemctl enable) or not (disable). Left out: not managed.',
      }),
    ),
    activeTimeoutSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 3600,
        default: 30,
        doc: 'How long a start waits for the unit to become active (and stay so).',
      }),
    ),
  },
  {
    additionalProperties: false,
    doc: "A systemd unit's running and enabled state; rollback stops or disables what the run started or enabled.",
  },
);
export type EnsureServiceParams = Static<typeof Params>;

function unitOf(name: string): string {
  return name.includes('.') ? name : `${name}.service`;
}

/**
 * A systemd unit running (or not) and enabled at boot (or not), like Ansible's
 * `service: state=started enabled=yes`. Reads the unit's state in the run's batched probe (one
 * `systemctl show` for every service), so a no-change run costs no extra command.
 * A rollback stops what this run started and disables what it enabled, and the reverse.
 */
export const ensureService = defineTask({
  type: 'ensureService',
  params: Params,
  check: (p) => {
    if (p.state === undefined && p.enabled === undefined) {
      throw new ConfigError(
        'give state (started or stopped), enabled (true or false), or both; with neither the task does nothing',
        { task: `ensureService "${p.name}"`, field: 'state' },
      );
    }
  },
  describe: (p) =>
    `${p.name}: ` +
    [p.state, p.enabled === undefined ? undefined : p.enabled ? 'enabled' : 'disabled']
      .filter((x) => x !== undefined)
      .join(', '),
  probe: (p) => {
    const spec: Record<string, ReturnType<typeof fact.file> | ReturnType<typeof fact.service>> = {
      service: fact.service(p.name),
    };
    // A unit file an earlier task is about to write (check mode) counts as installed.
    for (const path of unitFilePaths(p.name)) spec[`unit:${path}`] = fact.file(path);
    return spec;
  },
  plan: (p, facts): Plan => {
    const service = facts.service as ServiceFact;
    const unit = unitOf(p.name);
    if (service.manager !== 'systemd') {
      return {
        status: 'fail',
        message: `ensureService manages systemd units; systemd is not running on this host (found: ${service.manager})`,
      };
    }
    if (service.enabled === 'masked') {
      return { status: 'fail', message: `${unit} is masked; unmask it first` };
    }
    const unitFile = unitFilePaths(p.name)
      .map((path) => facts[`unit:${path}`] as FileFact)
      .find((f) => f.exists);
    if (!service.exists && unitFile === undefined) {
      // As in serviceRestart: check mode cannot see a unit a package install will bring.
      return {
        status: 'unknown',
        reason: `${unit} is not installed yet (no loaded unit, no unit file at ${unitFilePaths(p.name).join(', ')}); an earlier task may install it`,
      };
    }
    // Not loaded yet (the unit file is new) reads as stopped and disabled.
    const active = service.exists && ['active', 'activating', 'reloading'].includes(service.active);
    const enabled =
      service.exists && ['enabled', 'enabled-runtime', 'alias'].includes(service.enabled);
    const steps: Step[] = [];
    const undo: Step[] = [];
    const said: string[] = [];
    // A unit file written or changed since systemd loaded it must be re-read before acting on it.
    if (!service.exists || service.needsDaemonReload)
      steps.push({
        op: 'run',
        describe: 'systemctl daemon-reload',
        script: sh`systemctl daemon-reload`,
      });
    if (p.enabled !== undefined && p.enabled !== enabled) {
      const verb = p.enabled ? 'enable' : 'disable';
      said.push(`${verb} ${unit}`);
      steps.push({
        op: 'run',
        describe: `systemctl ${verb} ${unit}`,
        script: sh`systemctl ${verb} --quiet -- ${unit}`,
      });
      const back = p.enabled ? 'disable' : 'enable';
      undo.push({
        op: 'run',
        describe: `systemctl ${back} ${unit}`,
        script: sh`systemctl ${back} --quiet -- ${unit}`,
      });
    }
    if (p.state !== undefined && (p.state === 'started') !== active) {
      const verb = p.state === 'started' ? 'start' : 'stop';
      said.push(`${verb} ${unit}`);
      steps.push({
        op: 'run',
        describe: `systemctl ${verb} ${unit}`,
        script: sh`systemctl ${verb} -- ${unit}`,
      });
      const back = p.state === 'started' ? 'stop' : 'start';
      undo.push({
        op: 'run',
        describe: `systemctl ${back} ${unit}`,
        // A unit stopped by an undo leaves no failed state behind.
        script:
          back === 'stop'
            ? sh`systemctl stop -- ${unit}; systemctl reset-failed -- ${unit} 2>/dev/null || true`
            : sh`systemctl start -- ${unit}`,
      });
    }
    if (said.length === 0) return { status: 'ok' };
    const change: Change = {
      summary: said.join(', '),
      diff: said.map((text): DiffPart => ({ kind: 'item', sign: '~', text })),
      steps,
      // Undone in the reverse order of the steps: stop before disable.
      undo: undo.reverse(),
      effects: [
        {
          kind: 'service',
          fact: {
            name: p.name,
            exists: true,
            ...(p.state !== undefined
              ? { active: p.state === 'started' ? 'active' : 'inactive' }
              : {}),
            ...(p.enabled !== undefined ? { enabled: p.enabled ? 'enabled' : 'disabled' } : {}),
          },
        },
      ],
    };
    return {
      status: 'change',
      changes: [change],
      ...(p.state === 'started' && !active
        ? { verify: [activeCheck(unit, 'systemd', p.activeTimeoutSeconds ?? 30)] }
        : {}),
    };
  },
});
