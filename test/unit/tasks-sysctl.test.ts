// sysctl: its fact's parser from what a lab host printed (test/fixtures/custom-facts), how a name
// becomes a /proc/sys path, when two values are alike, and the plan of each case as a table row
// (a written file's undo is the engine's: it restores the file it kept).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Fact, FileFact } from '../../src/index.ts';
import { sameValue, sysctl, type SysctlParams } from '../../tasks/sysctl.ts';
import { procPath, sysctlValue, type SysctlLive } from '../../tasks/sysctl-value.ts';
import { absent, answerFrom, dir, file, planFrom, planRows } from './fixtures.ts';

test('sysctlValue parses what a lab host printed (test/fixtures/custom-facts)', () => {
  const names = [
    'kernel.sem',
    'fs.mqueue.msg_max',
    'vm.swappiness',
    'kernel.ostype',
    'vm.drop_caches',
    'net.nosuch.key',
    'net/ipv4/ip_forward',
  ];
  const out = readFileSync('test/fixtures/custom-facts/sysctlValue.txt', 'utf8');
  assert.deepEqual(sysctlValue(names[0] ?? '').def.parse(out, names), [
    { state: 'present', value: '32000 1024000000 500 32000', writable: true },
    { state: 'present', value: '101', writable: true },
    { state: 'present', value: '60', writable: false },
    { state: 'present', value: 'Linux', writable: false },
    { state: 'unreadable' },
    { state: 'absent' },
    { state: 'present', value: '0', writable: false },
  ]);
});

const PATHS: readonly [string, string][] = [
  ['net.core.somaxconn', '/proc/sys/net/core/somaxconn'],
  ['net.ipv4.conf.eth0/100.rp_filter', '/proc/sys/net/ipv4/conf/eth0.100/rp_filter'],
  ['net/ipv4/conf/eth0.100/rp_filter', '/proc/sys/net/ipv4/conf/eth0.100/rp_filter'],
];
for (const [name, want] of PATHS)
  test(`sysctl: ${name} is ${want}`, () => {
    assert.equal(procPath(name), want);
  });

const ALIKE: readonly [string, string, boolean][] = [
  ['4096', '4096', true],
  ['010', '10', true],
  ['32768\t60999', '32768 60999', true],
  [' 1  2 ', '1 2', true],
  ['1 2', '1 3', false],
  ['1', '1 1', false],
  ['bbr', 'cubic', false],
  ['-1', '-01', true],
];
for (const [a, b, want] of ALIKE)
  test(`sysctl: ${JSON.stringify(a)} and ${JSON.stringify(b)} are ${want ? '' : 'not '}alike`, () => {
    assert.equal(sameValue(a, b), want);
  });

const F = '/etc/sysctl.d/99-fleetbook.conf';
const live = (value: string, writable = true): SysctlLive => ({
  state: 'present',
  value,
  writable,
});

function plan(params: SysctlParams, running: SysctlLive, onDisk: FileFact) {
  const files = answerFrom({ files: { [F]: onDisk }, otherwise: (p) => dir(p) });
  return planFrom(sysctl(params), undefined, (q) =>
    q.kind === 'custom' ? (running as unknown as Fact) : files(q),
  );
}

const ROWS: readonly [string, SysctlParams, SysctlLive, FileFact, string | string[]][] = [
  [
    'both already so',
    { name: 'fs.mqueue.msg_max', value: 100 },
    live('100'),
    file(F, 'fs.mqueue.msg_max = 100\n'),
    'ok',
  ],
  [
    'a new file, a new running value',
    { name: 'fs.mqueue.msg_max', value: 100 },
    live('10'),
    absent(F),
    [
      'set fs.mqueue.msg_max: 10 -> 100 | sysctl fs.mqueue.msg_max=100 | sysctl fs.mqueue.msg_max=10',
      `create file ${F} (0644 root:root) | write ${F} | `,
    ],
  ],
  [
    'its line replaced, other lines kept; the kernel already holds it (tabs and all)',
    { name: 'kernel.sem', value: '250 32000 100 128' },
    live('250 32000 100 128'),
    file(F, '# tuned\nkernel.sem=1 2 3 4\nvm.x = 1\n'),
    [`update file ${F} (0644 root:root) | write ${F} | `],
  ],
  [
    'apply: false leaves the running value',
    { name: 'fs.mqueue.msg_max', value: 100, apply: false },
    live('10', false),
    file(F, 'fs.mqueue.msg_max = 100\n'),
    'ok',
  ],
  [
    'absent: the line goes, the running value stays',
    { name: 'fs.mqueue.msg_max', state: 'absent' },
    live('100'),
    file(F, 'fs.mqueue.msg_max = 100\n-fs.mqueue.msg_max=5\n'),
    [`update file ${F} (0644 root:root) | write ${F} | `],
  ],
  [
    'absent, no file: ok',
    { name: 'fs.mqueue.msg_max', state: 'absent' },
    live('100'),
    absent(F),
    'ok',
  ],
  [
    'read-only here (a container): refused, with the way out',
    { name: 'net.core.somaxconn', value: 4096 },
    live('128', false),
    absent(F),
    "fail: net.core.somaxconn is read-only on this host (/proc/sys/net/core/somaxconn: a container's /proc/sys often is; apply: false writes only the file)",
  ],
  [
    'no such parameter',
    { name: 'net.bridge.bridge-nf-call-iptables', value: 1 },
    { state: 'absent' },
    absent(F),
    'fail: this kernel has no parameter net.bridge.bridge-nf-call-iptables (/proc/sys/net/bridge/bridge-nf-call-iptables does not exist): is its module loaded? (apply: false writes only the file)',
  ],
  [
    'write-only',
    { name: 'vm.drop_caches', value: 3 },
    { state: 'unreadable' },
    absent(F),
    'fail: vm.drop_caches cannot be read (/proc/sys/vm/drop_caches is write-only), so whether it holds 3 cannot be told',
  ],
];

for (const [what, params, running, onDisk, want] of ROWS)
  test(`sysctl: ${what}`, () => {
    assert.deepEqual(planRows(plan(params, running, onDisk)), want);
  });

test('sysctl: the file holds the line where the old one was', () => {
  const p = plan(
    { name: 'kernel.sem', value: '250 32000 100 128' },
    live('1 2 3 4'),
    file(F, '# tuned\nkernel.sem=1 2 3 4\nvm.x = 1\n'),
  );
  const write =
    p.status === 'change' ? p.changes[1]?.steps.find((s) => s.op === 'write') : undefined;
  assert.equal(
    write?.op === 'write' && write.content.toString(),
    '# tuned\nkernel.sem = 250 32000 100 128\nvm.x = 1\n',
  );
});

test('sysctl: bad params are refused before any host', () => {
  assert.throws(() => sysctl({ name: 'somaxconn', value: 1 }), /name: expected a kernel parameter/);
  assert.throws(() => sysctl({ name: 'vm.swappiness' }), /value: required when state is "present"/);
  assert.throws(() => sysctl({ name: 'vm.swappiness', value: 1, state: 'absent' }), /value/);
  assert.throws(
    () => sysctl({ name: 'vm.swappiness', value: 'a\nb' }),
    /value: expected a number, or the words of the value on one line/,
  );
});
