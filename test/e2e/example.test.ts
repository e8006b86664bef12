// playbooks/reverse-proxy.ts on a fresh lab host, the way a team rolls it out: --check, the real
// run, --check again; then the app answers through HAProxy, the deploy user logs in with its key,
// and a rollback leaves the host as it was. HAProxy comes from a signed repository the test builds
// (Debian's own haproxy package, fetched on the host), the release from an HTTP server on loopback.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { LabInfo } from '../../src/lab/index.ts';
import { serveAptRepo, type AptRepo } from './apt-repo.ts';
import {
  assertHealthy,
  fleetbook,
  HOSTS,
  lab,
  loginAs,
  newKeyPair,
  onHost,
  ROOT,
  taskEnds,
} from './helpers.ts';

const [HOST] = HOSTS.example;
const PLAYBOOK = 'playbooks/reverse-proxy.ts';
let info: LabInfo;
let repo: AptRepo;
let haproxyVersion = '';

/** The release: a tiny HTTP app in Python (the lab's Debian has python3). */
const APP = Buffer.from(`import http.server, sys
class App(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from release 1.0\\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), App).serve_forever()
`);

before(async () => {
  info = await lab('example');
  // Debian's haproxy, fetched on the host (its apt reaches the mirror), served from our repository.
  const deb = await onHost(
    HOST,
    'cd /tmp && apt-get update -qq && apt-get download -qq haproxy >/dev/null && f=$(ls haproxy_*.deb) && dpkg-deb -f "$f" Version && base64 -w0 "$f" && rm -f "$f"',
  );
  const [version = '', b64 = ''] = deb.split('\n');
  haproxyVersion = version;
  repo = await serveAptRepo([], {
    'haproxy.deb': Buffer.from(b64, 'base64'),
    'app-1.0.py': APP,
  });
});

after(async () => {
  await repo.close();
  await assertHealthy([HOST]);
});

/** The inventory of the lab host with the example's vars; and where HAProxy listens. */
async function inventory(pub: string): Promise<{ file: string; listen: string }> {
  const labInv = YAML.parse(await readFile(info.inventoryPath, 'utf8')) as {
    defaults: Record<string, unknown>;
    hosts: Record<string, unknown>;
  };
  const address = (labInv.hosts[HOST] as { address: string }).address;
  const inv = {
    environment: 'staging',
    defaults: labInv.defaults,
    vars: {
      listen: `${address}:8080`,
      app: {
        listen: `${address}:8000`,
        version: '1.0',
        url: `${repo.url}app-1.0.py`,
        sha256: createHash('sha256').update(APP).digest('hex'),
      },
      haproxy: {
        version: haproxyVersion,
        repository: {
          uris: repo.url,
          suites: ['./'],
          keyUrl: `${repo.url}key.asc`,
          fingerprint: repo.fingerprint,
        },
      },
      // Not `deploy`: the lab's hosts have that user already (for become).
      deploy: { user: 'fbdeploy', keys: [pub] },
      // Not the net.* ones a proxy wants: the lab's hosts share this machine's network namespace,
      // so those are read-only in them. These are the host's own (src/lab/sysctl.ts).
      sysctl: { 'kernel.msgmnb': 65536, 'fs.mqueue.msg_max': 64 },
    },
    hosts: { [HOST]: labInv.hosts[HOST] },
  };
  const file = path.join(ROOT, '.fleetbook', `e2e-example-${HOST}.yaml`);
  await writeFile(file, YAML.stringify(inv));
  return { file, listen: inv.vars.listen };
}

test('reverse-proxy example: check, run, check on a fresh host; the app answers through HAProxy; rollback leaves the host as it was', async () => {
  const { key, pub, dir } = await newKeyPair();
  const { file: inv, listen } = await inventory(pub);
  const kernel = 'cat /proc/sys/kernel/msgmnb /proc/sys/fs/mqueue/msg_max; ls /etc/sysctl.d';
  const hostState = () =>
    onHost(
      HOST,
      `dpkg-query -W -f='\${Status}\\n' haproxy 2>&1 || true; getent passwd fbdeploy || true; ${kernel}`,
    );
  const before = await hostState();
  const args = ['run', PLAYBOOK, '-i', inv, '--json'];

  const c1 = await fleetbook([...args, '--check']);
  assert.equal(c1.code, 0, c1.stdout + c1.stderr);
  // On a fresh host check mode cannot know what needs haproxy installed first, and says why.
  const notPlanned = taskEnds(c1).filter((e) => e.outcome !== 'would-change');
  assert.deepEqual(
    notPlanned.map((e) => `${e.task} ${e.outcome}`),
    [
      'copyFile /etc/haproxy/haproxy.cfg unknown',
      'ensureService haproxy: started, enabled unknown',
      'reload haproxy unknown',
    ],
    taskEnds(c1)
      .map((e) => `${e.task} ${e.outcome} ${e.message ?? ''}`)
      .join('\n'),
  );
  assert.match(notPlanned[0]?.message ?? '', /validate rejects .* haproxy: not found/);
  assert.match(
    notPlanned[1]?.message ?? '',
    /package haproxy, which an earlier task would install/,
  );

  const r1 = await fleetbook(args);
  assert.equal(r1.code, 0, r1.stdout + r1.stderr);
  const res = await fetch(`http://${listen}/`);
  assert.equal(await res.text(), 'hello from release 1.0\n');
  assert.deepEqual(await loginAs(info, HOST, 'fbdeploy', key), { code: 0, stdout: 'fbdeploy\n' });
  assert.equal(
    await onHost(
      HOST,
      'apt-mark showhold; readlink /srv/app/current; systemctl is-active app haproxy',
    ),
    'haproxy\n/srv/app/releases/1.0\nactive\nactive\n',
  );
  assert.match(await onHost(HOST, kernel), /^65536\n64\n60-haproxy\.conf\n/);

  const c2 = await fleetbook([...args, '--check']);
  assert.equal(c2.code, 0, c2.stdout + c2.stderr);
  assert.ok(
    taskEnds(c2).every((e) => e.outcome === 'ok'),
    taskEnds(c2)
      .map((e) => `${e.task} ${e.outcome}`)
      .join('\n'),
  );

  const runId = r1.events.find((e) => e.type === 'run-start')?.runId ?? '';
  const rb = await fleetbook(['rollback', runId]);
  assert.equal(rb.code, 0, rb.stdout + rb.stderr);
  assert.equal(await hostState(), before);
  assert.equal(
    await onHost(HOST, 'ls -d /srv/app /etc/systemd/system/app.service 2>/dev/null || true'),
    '',
  );
  await rm(dir, { recursive: true });
});
