/**
 * End-to-end test of the lab: real containers, real SSH, a real SMTP smarthost. Needs root.
 * Run: node --import tsx --test test/lab.e2e.test.ts
 * Leaves the lab running (other test files reuse it).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import {
  labResetHost,
  labStartHost,
  labStatus,
  labStopHost,
  labUp,
  readLabMail,
  type LabInfo,
} from '../../src/lab/index.ts';
import { HOSTS, LAB_SIZE } from './helpers.ts';

/** The suite's lab size; a bigger lab (a benchmark may have grown it) is kept, not shrunk. */
let COUNT = LAB_SIZE;
/** This file's own hosts (HOSTS in helpers.ts): the ones it resets, stops and starts. */
const [A, B] = HOSTS.lab;
let lab: LabInfo;
let scratch: string;

interface Done {
  code: number;
  stdout: string;
  stderr: string;
}

function ssh(
  address: string,
  command: string,
  opts: { user?: string; knownHosts?: string } = {},
): Promise<Done> {
  const args = [
    '-F',
    '/dev/null',
    '-i',
    lab.keyPath,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    `UserKnownHostsFile=${opts.knownHosts ?? lab.knownHostsPath}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'ConnectTimeout=5',
    `${opts.user ?? 'root'}@${address}`,
    command,
  ];
  return new Promise((resolve) => {
    execFile('ssh', args, { timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 255;
      resolve({ code, stdout, stderr });
    });
  });
}

async function sshOk(address: string, command: string, user = 'root'): Promise<string> {
  const r = await ssh(address, command, { user });
  assert.equal(r.code, 0, `ssh ${user}@${address} ${command} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

function host(name: string) {
  const h = lab.hosts.find((x) => x.name === name);
  assert.ok(h, `no host ${name} in ${JSON.stringify(lab.hosts)}`);
  return h;
}

// ---- a small SMTP client: enough for EHLO, STARTTLS, AUTH, MAIL/RCPT/DATA ----

interface Reply {
  code: number;
  text: string;
}

class Smtp {
  private buf = '';
  private waiter: (() => void) | null = null;
  private closed: Error | null = null;

  private constructor(private sock: net.Socket) {
    this.attach(sock);
  }

  private attach(sock: net.Socket): void {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      this.waiter?.();
    });
    sock.on('error', (e) => {
      this.closed = e;
      this.waiter?.();
    });
    sock.on('close', () => {
      this.closed ??= new Error('connection closed');
      this.waiter?.();
    });
  }

  static async connect(
    port: number,
    implicitTls: boolean,
  ): Promise<{ smtp: Smtp; greeting: Reply }> {
    const sock = await new Promise<net.Socket>((resolve, reject) => {
      const s = implicitTls
        ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
            resolve(s);
          })
        : net.connect({ host: '127.0.0.1', port }, () => {
            resolve(s);
          });
      s.once('error', reject);
    });
    const smtp = new Smtp(sock);
    return { smtp, greeting: await smtp.reply() };
  }

  /** Reads one (possibly multi-line) reply. */
  async reply(): Promise<Reply> {
    for (;;) {
      const lines = this.buf.split('\r\n');
      const end = lines.findIndex((l) => /^\d{3}(?: |$)/.test(l));
      if (end >= 0 && end < lines.length - 1) {
        const mine = lines.slice(0, end + 1);
        this.buf = lines.slice(end + 1).join('\r\n');
        return {
          code: Number(mine[end]?.slice(0, 3)),
          text: mine.map((l) => l.slice(4)).join('\n'),
        };
      }
      if (this.closed !== null) throw this.closed;
      await new Promise<void>((r) => (this.waiter = r));
      this.waiter = null;
    }
  }

  async cmd(line: string): Promise<Reply> {
    this.sock.write(`${line}\r\n`);
    return this.reply();
  }

  async starttls(): Promise<void> {
    const r = await this.cmd('STARTTLS');
    assert.equal(r.code, 220, `STARTTLS: ${r.text}`);
    const raw = this.sock;
    raw.removeAllListeners('data');
    this.sock = await new Promise<net.Socket>((resolve, reject) => {
      const s = tls.connect({ socket: raw, rejectUnauthorized: false }, () => {
        resolve(s);
      });
      s.once('error', reject);
    });
    this.attach(this.sock);
  }

  close(): void {
    this.sock.end();
    this.sock.destroy();
  }
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

before(
  async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'fleetbook-lab-test-'));
    COUNT = Math.max(LAB_SIZE, (await labStatus())?.hosts.length ?? 0);
    const t0 = Date.now();
    lab = await labUp({
      count: COUNT,
      log: (l) => {
        console.log(`# lab: ${l}`);
      },
    });
    console.log(`# labUp({count: ${COUNT}}) took ${Date.now() - t0} ms`);
    // Fresh hosts of its own: what the other files did to theirs is not this file's business.
    await Promise.all([A, B].map((h) => labResetHost(h)));
    lab = (await labStatus()) ?? assert.fail('no lab');
  },
  { timeout: 30 * 60_000 },
);

after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

void test('labUp reports the hosts, the key, known_hosts and the inventory', async () => {
  assert.deepEqual(
    lab.hosts.map((h) => [h.name, h.address, h.port, h.running]),
    Array.from({ length: COUNT }, (_, k) => [`lab${k + 1}`, `127.0.1.${k + 1}`, 22, true]),
  );
  for (const h of lab.hosts) assert.ok(typeof h.pid === 'number' && h.pid > 1);
  const knownHosts = (await readFile(lab.knownHostsPath, 'utf8')).trim().split('\n');
  assert.equal(knownHosts.length, COUNT);
  for (const [k, line] of knownHosts.entries())
    assert.match(line, new RegExp(`^127\\.0\\.1\\.${k + 1} ssh-ed25519 AAAA\\S+$`));

  const inv = parseYaml(await readFile(lab.inventoryPath, 'utf8')) as Record<string, unknown>;
  assert.deepEqual(inv, {
    environment: 'development',
    defaults: {
      user: 'root',
      port: 22,
      key: lab.keyPath,
      knownHosts: lab.knownHostsPath,
      sshConfig: 'none',
    },
    vars: {
      smarthost: {
        host: '127.0.0.1',
        port: 587,
        user: 'fleetbook',
        passwordFile: path.join(path.dirname(lab.keyPath), 'smarthost.password'),
      },
    },
    hosts: Object.fromEntries(lab.hosts.map((h) => [h.name, { address: h.address }])),
    groups: { lab: { hosts: lab.hosts.map((h) => h.name) } },
  });
  const projectCopy = path.join(
    process.env['FLEETBOOK_PROJECT_DIR'] ?? process.cwd(),
    'inventories',
    'lab.yaml',
  );
  assert.equal(await readFile(projectCopy, 'utf8'), await readFile(lab.inventoryPath, 'utf8'));
  assert.deepEqual(await labStatus(), lab);
});

void test('root and deploy log in over SSH with verified host keys; deploy has passwordless sudo', async () => {
  const names = await Promise.all(lab.hosts.map((h) => sshOk(h.address, 'hostname')));
  assert.deepEqual(
    names,
    lab.hosts.map((h) => h.name),
  );
  for (const h of lab.hosts) {
    assert.equal(await sshOk(h.address, 'whoami', 'deploy'), 'deploy');
    assert.equal(await sshOk(h.address, 'sudo -n true && sudo -n whoami', 'deploy'), 'root');
  }
  // the host key really is checked: B's key listed for A's address must be refused
  const lines = (await readFile(lab.knownHostsPath, 'utf8')).trim().split('\n');
  const wrong = path.join(scratch, 'wrong_known_hosts');
  const keyOfB = lines.find((l) => l.startsWith(`${host(B).address} `)) ?? '';
  await writeFile(wrong, `${keyOfB.replace(/^\S+/, host(A).address)}\n`);
  const r = await ssh(host(A).address, 'true', { knownHosts: wrong });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /host key|Host key verification failed/i);
});

void test('systemd inside a freshly booted host reports running (no failed units)', async () => {
  for (const h of [host(A), host(B)]) {
    const r = await ssh(h.address, 'systemctl is-system-running --wait');
    const failed = await sshOk(h.address, 'systemctl --failed --no-legend --plain');
    assert.equal(
      r.stdout.trim(),
      'running',
      `${h.name} is ${r.stdout.trim()}; failed units:\n${failed}`,
    );
  }
  const ids = await Promise.all(lab.hosts.map((h) => sshOk(h.address, 'cat /etc/machine-id')));
  assert.equal(new Set(ids).size, COUNT, 'every host has its own machine id');
});

void test('the smarthost takes mail over STARTTLS + AUTH PLAIN and stores it', async () => {
  const { smtp, greeting } = await Smtp.connect(lab.smarthost.port, false);
  try {
    assert.equal(greeting.code, 220);
    const ehlo = await smtp.cmd('EHLO controller.test');
    assert.equal(ehlo.code, 250);
    assert.match(ehlo.text, /STARTTLS/);
    // no AUTH in the clear
    const early = await smtp.cmd(
      `AUTH PLAIN ${b64(`\0${lab.smarthost.user}\0${lab.smarthost.password}`)}`,
    );
    assert.ok(
      early.code >= 500,
      `AUTH before STARTTLS must be refused, got ${early.code} ${early.text}`,
    );
    await smtp.starttls();
    const ehlo2 = await smtp.cmd('EHLO controller.test');
    assert.match(ehlo2.text, /AUTH .*PLAIN/);
    assert.equal(
      (await smtp.cmd(`AUTH PLAIN ${b64(`\0${lab.smarthost.user}\0${lab.smarthost.password}`)}`))
        .code,
      235,
    );
    const tag = randomBytes(6).toString('hex');
    assert.equal((await smtp.cmd('MAIL FROM:<cron@lab1.test>')).code, 250);
    assert.equal((await smtp.cmd('RCPT TO:<ops@example.test>')).code, 250);
    assert.equal((await smtp.cmd('DATA')).code, 354);
    const body = [
      'From: cron@lab1.test',
      'To: ops@example.test',
      `Subject: lab test ${tag}`,
      '',
      'hello from the lab test',
      '.',
    ].join('\r\n');
    const queued = await smtp.cmd(body);
    assert.equal(queued.code, 250, queued.text);
    await smtp.cmd('QUIT');

    const mail = (await readLabMail()).find((m) => m.raw.includes(`Subject: lab test ${tag}`));
    assert.ok(mail, 'the message is in readLabMail()');
    assert.equal(mail.authUser, 'fleetbook');
    assert.equal(mail.tls, true);
    assert.equal(mail.from, 'cron@lab1.test');
    assert.deepEqual(mail.to, ['ops@example.test']);
    assert.ok(!Number.isNaN(Date.parse(mail.receivedAt)));
    assert.match(mail.raw, /hello from the lab test/);
  } finally {
    smtp.close();
  }
});

void test('the smarthost takes mail over implicit TLS (465) with AUTH LOGIN', async () => {
  const { smtp, greeting } = await Smtp.connect(lab.smarthost.tlsPort, true);
  try {
    assert.equal(greeting.code, 220);
    assert.equal((await smtp.cmd('EHLO controller.test')).code, 250);
    assert.equal((await smtp.cmd('AUTH LOGIN')).code, 334);
    assert.equal((await smtp.cmd(b64(lab.smarthost.user))).code, 334);
    assert.equal((await smtp.cmd(b64(lab.smarthost.password))).code, 235);
    const tag = randomBytes(6).toString('hex');
    assert.equal((await smtp.cmd('MAIL FROM:<app@lab2.test>')).code, 250);
    assert.equal((await smtp.cmd('RCPT TO:<a@example.test>')).code, 250);
    assert.equal((await smtp.cmd('RCPT TO:<b@example.test>')).code, 250);
    assert.equal((await smtp.cmd('DATA')).code, 354);
    assert.equal((await smtp.cmd(`Subject: smtps ${tag}\r\n\r\nbody\r\n.`)).code, 250);
    await smtp.cmd('QUIT');
    const mail = (await readLabMail()).find((m) => m.raw.includes(`smtps ${tag}`));
    assert.ok(mail);
    assert.equal(mail.tls, true);
    assert.equal(mail.authUser, 'fleetbook');
    assert.deepEqual(mail.to, ['a@example.test', 'b@example.test']);
  } finally {
    smtp.close();
  }
});

void test('a wrong smarthost password gets 535 and no mail is accepted', async () => {
  const { smtp } = await Smtp.connect(lab.smarthost.port, false);
  try {
    await smtp.cmd('EHLO controller.test');
    await smtp.starttls();
    await smtp.cmd('EHLO controller.test');
    const r = await smtp.cmd(`AUTH PLAIN ${b64(`\0${lab.smarthost.user}\0not-the-password`)}`);
    assert.equal(r.code, 535, r.text);
    const mailFrom = await smtp.cmd('MAIL FROM:<x@example.test>');
    assert.equal(mailFrom.code, 530, `MAIL without AUTH: ${mailFrom.text}`);
  } finally {
    smtp.close();
  }
});

void test(
  'labResetHost wipes what was written on the host and keeps its identity',
  { timeout: 120_000 },
  async () => {
    const before = await sshOk(
      host(A).address,
      'echo hi > /root/reset-marker && cat /etc/machine-id',
    );
    await sshOk(host(B).address, 'touch /root/other-host-marker');
    await labResetHost(A);
    // same host key: the strict known_hosts check still passes
    assert.equal(
      await sshOk(host(A).address, 'test -e /root/reset-marker && echo present || echo gone'),
      'gone',
    );
    assert.equal(await sshOk(host(A).address, 'hostname'), A);
    assert.notEqual(
      await sshOk(host(A).address, 'cat /etc/machine-id'),
      before,
      'a fresh machine id',
    );
    assert.equal(await sshOk(host(A).address, 'sudo -n true && echo ok', 'deploy'), 'ok');
    // the other host is untouched
    assert.equal(
      await sshOk(host(B).address, 'test -e /root/other-host-marker && echo present'),
      'present',
    );
    await sshOk(host(B).address, 'rm /root/other-host-marker');
  },
);

void test(
  'labStopHost makes a host unreachable; labStartHost brings it back with its disk',
  { timeout: 120_000 },
  async () => {
    await sshOk(host(B).address, 'echo kept > /root/survives-restart');
    const t0 = Date.now();
    await labStopHost(B);
    const stopMs = Date.now() - t0;
    const down = await ssh(host(B).address, 'true');
    assert.notEqual(down.code, 0, 'ssh to a stopped host fails');
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: host(B).address, port: 22 });
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', () => {
        resolve(true);
      });
    });
    assert.ok(refused, `nothing listens on ${host(B).address}:22`);
    const status = await labStatus();
    assert.deepEqual(
      status?.hosts.map((h) => [h.name, h.running]),
      lab.hosts.map((h) => [h.name, h.name !== B]),
    );
    assert.equal(await sshOk(host(A).address, 'hostname'), A, 'the other host keeps running');

    await labStartHost(B);
    assert.equal(await sshOk(host(B).address, 'cat /root/survives-restart'), 'kept');
    await sshOk(host(B).address, 'rm /root/survives-restart');
    console.log(`# labStopHost took ${stopMs} ms`);
  },
);

// How fast this is belongs to a benchmark, not a timed test (shared machines are noisy):
// here only that the running hosts are kept, not rebooted.
void test('labUp again keeps the running hosts', async () => {
  const pids = (await labStatus())?.hosts.map((h) => h.pid);
  lab = await labUp({ count: COUNT });
  assert.deepEqual(
    lab.hosts.map((h) => h.pid),
    pids,
  );
});
