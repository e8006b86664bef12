import {
  AbsPath,
  defineTask,
  factEffect,
  sh,
  Type,
  type Change,
  type Plan,
  type Static,
} from 'fleetbook';
import { editProbe, planEdit } from './file-edit.ts';
import { editLine } from './line-edit.ts';
import { procPath, sysctlValue, words, type SysctlLive } from './sysctl-value.ts';

const DEFAULT_FILE = '/etc/sysctl.d/99-fleetbook.conf';

const Params = Type.Object(
  {
    name: Type.String({
      pattern: '^[A-Za-z0-9_-]+([./][A-Za-z0-9_:@+-]+)+$',
      description: 'a kernel parameter such as net.core.somaxconn',
      doc: 'The kernel parameter, as sysctl names it: `net.core.somaxconn` (`net.ipv4.conf.eth0/100.rp_filter` for a component with a dot in it).',
    }),
    value: Type.Optional(
      Type.Union(
        [
          Type.Integer(),
          Type.String({ pattern: '^[^\\n]*[^\\s][^\\n]*$', description: 'one line' }),
        ],
        {
          description: 'a number, or the words of the value on one line',
          doc: 'Its value: `4096`, or words such as `"1024 65000"` (compared with the kernel word by word, numbers as numbers).',
        },
      ),
    ),
    state: Type.Optional(
      Type.Union([Type.Literal('present'), Type.Literal('absent')], {
        default: 'present',
        doc: '`absent` removes its lines from `file`; the running value is left as it is.',
      }),
    ),
    file: Type.Optional({
      ...AbsPath,
      default: DEFAULT_FILE,
      doc: 'The file the setting is kept in, read at every boot (a file read later, by name, wins: on Debian /etc/sysctl.conf is read as 99-sysctl.conf).',
    }),
    apply: Type.Optional(
      Type.Boolean({
        default: true,
        doc: 'Set the running value too. `false`: only the file (for a parameter of a module not loaded yet, or a container whose /proc/sys is read-only).',
      }),
    ),
  },
  {
    additionalProperties: false,
    doc: 'A kernel parameter: its line in a file in /etc/sysctl.d and its running value, each changed only when it differs; undo puts both back.',
  },
);
export type SysctlParams = Static<typeof Params>;

/** Two values the kernel would read alike: word by word, numbers by their value (`010` is `10`). */
export function sameValue(a: string, b: string): boolean {
  const x = words(a).split(' ');
  const y = words(b).split(' ');
  const num = /^-?[0-9]+$/;
  return (
    x.length === y.length &&
    x.every((w, i) => {
      const v = y[i] ?? '';
      return w === v || (num.test(w) && num.test(v) && BigInt(w) === BigInt(v));
    })
  );
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The running value's change, or why it cannot be made; null when it already holds the value. */
function planLive(name: string, value: string, live: SysctlLive): Change | string | null {
  const path = procPath(name);
  if (live.state === 'absent')
    return `this kernel has no parameter ${name} (${path} does not exist): is its module loaded? (apply: false writes only the file)`;
  if (live.state === 'unreadable')
    return `${name} cannot be read (${path} is write-only), so whether it holds ${value} cannot be told`;
  if (sameValue(live.value, value)) return null;
  if (!live.writable)
    return `${name} is read-only on this host (${path}: a container's /proc/sys often is; apply: false writes only the file)`;
  const write = (v: string) => sh`printf '%s\\n' ${v} > ${path}`;
  return {
    summary: `set ${name}: ${live.value} -> ${value}`,
    diff: [{ kind: 'attr', subject: 'sysctl', field: name, before: live.value, after: value }],
    steps: [{ op: 'run', describe: `sysctl ${name}=${value}`, script: write(value) }],
    undo: [{ op: 'run', describe: `sysctl ${name}=${live.value}`, script: write(live.value) }],
    effects: [factEffect(sysctlValue(name), { ...live, value })],
  };
}

/** A kernel parameter in a sysctl.d file and in the running kernel (as Ansible's sysctl). */
export const sysctl = defineTask({
  type: 'sysctl',
  params: Params,
  rules: [
    { when: 'state', is: ['present'], require: ['value'] },
    { when: 'state', is: ['absent'], forbid: ['value', 'apply'] },
  ],
  describe: (p) => (p.value === undefined ? p.name : `${p.name}=${p.value}`),
  probe: (p) => ({
    ...editProbe({ path: p.file ?? DEFAULT_FILE }),
    live: sysctlValue(p.name),
  }),
  plan: (p, facts, _prepared, ctx): Plan => {
    const state = p.state ?? 'present';
    const value = p.value === undefined ? '' : words(String(p.value));
    const changes: Change[] = [];
    if (state === 'present' && p.apply !== false) {
      const live = planLive(p.name, value, facts.live);
      if (typeof live === 'string') return { status: 'fail', message: live };
      if (live !== null) changes.push(live);
    }
    const file = p.file ?? DEFAULT_FILE;
    const edit = planEdit({ path: file, state, create: true }, facts, ctx, (text) =>
      editLine(text, {
        state,
        regexp: `^\\s*-?${escapeRegex(p.name)}\\s*=`,
        line: `${p.name} = ${value}`,
      }),
    );
    if (edit.status === 'change') changes.push(...edit.changes);
    else if (edit.status !== 'ok') return edit;
    return changes.length === 0 ? edit : { status: 'change', changes };
  },
});
