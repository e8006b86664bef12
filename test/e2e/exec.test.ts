// `fleetbook exec` and `fleetbook facts` on a lab host: output and exit code per host, the user and
// become the inventory (or -u / -b) say, facts as the host itself reports them, and an unreachable
// host reported as such.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertHealthy, fleetbook, HOSTS, lab, onHost } from './helpers.ts';
import type { LabInfo } from '../../src/lab/index.ts';

const [HOST] = HOSTS.exec;
let info: LabInfo;
let inventory = '';

before(async () => {
  info = await lab('exec');
  const address = info.hosts.find((h) => h.name === HOST)?.address ?? '';
  const dir = mkdtempSync(join(tmpdir(), 'fb-exec-'));
  inventory = join(dir, 'inv.yaml');
  // gone is a TEST-NET address nobody answers on.
  writeFileSync(
    inventory,
    `environment: development\ndefaults: { sshConfig: none, key: ${info.keyPath}, knownHosts: ${info.knownHostsPath} }\n` +
      `hosts:\n  ${HOST}: { address: ${address} }\n  gone: { address: 192.0.2.1 }\n`,
  );
});

const exec = (...args: string[]) =>
  fleetbook(['exec', '-i', inventory, '--connect-timeout', '2', ...args]);

test("each host's output under its name with its exit code; the worst outcome is the exit status", async () => {
  const r = await exec('hostname; echo oops >&2; exit 3');
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`^${HOST} \\| FAILED \\| rc=3 >>\\n${HOST}\\noops\\n`, 'm'));
  assert.match(r.stdout, /^gone \| UNREACHABLE: cannot connect to root@192\.0\.2\.1:22: /m);
  const ok = await exec('--limit', HOST, 'echo fine');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, `${HOST} | SUCCESS | rc=0 >>\nfine\n`);
  const unreachable = await exec('--limit', 'gone', 'true');
  assert.equal(unreachable.code, 4);
});

test('-u connects as that user; -b acts as root through sudo -n; --json is one object per host', async () => {
  // The root run above left root's 0644 lock file: a plain user must still get its session.
  const asDeploy = await exec('--limit', HOST, '-u', 'deploy', '--json', 'id -un');
  assert.equal(asDeploy.code, 0, asDeploy.stdout + asDeploy.stderr);
  assert.deepEqual(JSON.parse(asDeploy.stdout), {
    host: HOST,
    code: 0,
    stdout: 'deploy\n',
    stderr: '',
  });
  const become = await exec('--limit', HOST, '-u', 'deploy', '-b', 'id -un');
  assert.equal(become.stdout, `${HOST} | SUCCESS | rc=0 >>\nroot\n`);
  await assertHealthy([HOST]);
});

test('an empty command and an unknown --limit are errors before connecting', async () => {
  const empty = await exec(' ');
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /exec: the command is empty/);
  const typo = await exec('--limit', 'lab4x', 'true');
  assert.equal(typo.code, 1);
  assert.match(typo.stderr, /--limit "lab4x" matches no host or group/);
});

test('facts: what the host itself says about its system, in one read; --json for tools', async () => {
  const r = await fleetbook(['facts', '-i', inventory, '--limit', HOST, '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const got = JSON.parse(r.stdout) as { host: string; facts: Record<string, unknown> };
  const own = (cmd: string) => onHost(HOST, cmd).then((s) => s.trim());
  assert.equal(got.host, HOST);
  assert.deepEqual(got.facts, {
    os: {
      id: await own('. /etc/os-release; echo $ID'),
      version: await own('. /etc/os-release; echo $VERSION_ID'),
      codename: await own('. /etc/os-release; echo $VERSION_CODENAME'),
      prettyName: await own('. /etc/os-release; echo $PRETTY_NAME'),
    },
    architecture: await own('dpkg --print-architecture'),
    kernel: await own('uname -r'),
    hostname: HOST,
    fqdn: await own('hostname -f'),
    cpus: Number(await own('nproc')),
    memoryMb: Math.floor(Number(await own("awk '/^MemTotal:/ {print $2}' /proc/meminfo")) / 1024),
    ipv4: got.facts.ipv4,
    ipv6: got.facts.ipv6,
    init: 'systemd',
  });
  // The lab shares the machine's network: the default route's interface and address are its own.
  const route = await own(
    'awk \'$2 == "00000000" && $8 == "00000000" {print $1; exit}\' /proc/net/route',
  );
  assert.equal((got.facts.ipv4 as { interface: string } | null)?.interface ?? null, route || null);
  const plain = await fleetbook(['facts', '-i', inventory, '--connect-timeout', '2']);
  assert.equal(plain.code, 4, plain.stdout + plain.stderr);
  assert.match(
    plain.stdout,
    new RegExp(`^${HOST}: Debian GNU/Linux 12 \\(bookworm\\) amd64, kernel `, 'm'),
  );
  assert.match(plain.stdout, /^gone \| UNREACHABLE: /m);
});
