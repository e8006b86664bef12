// The reference deployment (issue 4) end to end: playbooks/django-production.ts with the vars of
// inventories/development.yaml, on this file's hosts lab4 and lab5 (reset first; see HOSTS in
// helpers.ts), relaying through the lab smarthost. Secrets live in temp dirs (FLEETBOOK_SECRETS_DIR), never in the developer's.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { labSsh, readLabMail, type LabInfo, type LabMail } from '../../src/lab/index.ts';
import { readVault, writeVault } from '../../src/secrets/vault.ts';
import {
  assertHealthy,
  assertPredicted,
  fleetbook,
  HOSTS as OWNED,
  lab,
  onHost,
  ROOT,
  setSmarthostPassword,
  taskEnds,
  type CliResult,
} from './helpers.ts';
import {
  developmentVars,
  DJANGO_PLAYBOOK,
  writeDjangoInventory,
  type DevVars,
} from './django-lab.ts';

const HOSTS = OWNED.django;
const LIMIT = HOSTS.join(',');
const PLAYBOOK = DJANGO_PLAYBOOK;
const P = 'fbdemo';
const SETTINGS = `/etc/opt/${P}/settings.py`;
/** The app's restart handler, as the play names it: the role's name, then the handler's. */
const RESTART = 'django-app: restart';

let info: LabInfo;
let work: string;
let secrets: string;
let inventory: string;
let devVars: DevVars;

function writeInventory(file: string, change?: (vars: DevVars) => void): Promise<string> {
  return writeDjangoInventory(info, HOSTS, file, devVars, change);
}

function run(
  args: readonly string[],
  opts: { secretsDir?: string; inventory?: string; playbook?: string } = {},
): Promise<CliResult> {
  return fleetbook(
    [
      'run',
      opts.playbook ?? PLAYBOOK,
      '-i',
      opts.inventory ?? inventory,
      '--limit',
      LIMIT,
      ...args,
    ],
    {
      FLEETBOOK_SECRETS_DIR: opts.secretsDir ?? secrets,
    },
  );
}

function ok(r: CliResult, what: string): void {
  assert.equal(r.code, 0, `${what} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
}

/** The secrets stored in `dir`, read as the CLI reads them (with the tests' age identity). */
async function storedSecrets(dir: string): Promise<Record<string, string>> {
  return inSecretsDir(dir, () => readVault('development'));
}

/** A secrets dir as `fleetbook secret set` leaves it: age-encrypted to the tests' identity. */
async function secretsDir(values: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(work, 'secrets-'));
  await inSecretsDir(dir, () => writeVault('development', values));
  return dir;
}

async function inSecretsDir<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const before = process.env.FLEETBOOK_SECRETS_DIR;
  process.env.FLEETBOOK_SECRETS_DIR = dir;
  try {
    return await work();
  } finally {
    if (before === undefined) delete process.env.FLEETBOOK_SECRETS_DIR;
    else process.env.FLEETBOOK_SECRETS_DIR = before;
  }
}

async function hostNow(host: string): Promise<number> {
  return Number((await onHost(host, 'date +%s')).trim());
}

/** An HTTP/1.0 request to gunicorn's unix socket, made on the host with python3 (no curl there). */
async function httpOnSocket(host: string, request: string): Promise<string> {
  const script = [
    'import socket, sys',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)',
    's.settimeout(10)',
    `s.connect("/run/${P}/gunicorn.sock")`,
    's.sendall(sys.stdin.buffer.read())',
    'data = b""',
    'while True:',
    '    chunk = s.recv(65536)',
    '    if not chunk:',
    '        break',
    '    data += chunk',
    'sys.stdout.write(data.decode("utf-8", "replace"))',
  ].join('\n');
  const r = await labSsh(host, `python3 -c '${script}'`, { input: request });
  assert.equal(r.code, 0, `${host}: HTTP request on the socket failed: ${r.stderr}`);
  return r.stdout;
}

/** Headers unfolded, so a long Subject reads as one line. */
function unfolded(m: LabMail): string {
  return m.raw.replace(/\r\n/g, '\n').replace(/\n[ \t]+/g, ' ');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

const timings: string[] = [];

before(async () => {
  info = await lab('django');
  // The lab base's apt index is as old as the base, which a machine may keep for hours. Put it past
  // aptInstall's max age (60 min), so the dry run and the real run seconds later agree on refreshing
  // it: at 59 min 50 s it was fresh for the one and stale for the other.
  await Promise.all(
    HOSTS.map((h) =>
      onHost(
        h,
        'mkdir -p /var/lib/apt/periodic && touch -d "-2 hours" /var/lib/apt/periodic/update-success-stamp /var/lib/apt/lists/partial/',
      ),
    ),
  );
  work = await mkdtemp(path.join(tmpdir(), 'fb-django-e2e-'));
  await chmod(work, 0o700);
  secrets = path.join(work, 'secrets');
  devVars = await developmentVars();
  assert.ok(
    devVars.admins.length >= 2,
    'development.yaml needs two admins (the admin-change test edits the second)',
  );
  inventory = await writeInventory(path.join(work, 'lab-development.yaml'));
  await setSmarthostPassword(info, secrets);
});

// The host must be healthy after this file changed it, not merely "the task said ok".
after(() => assertHealthy(HOSTS));

after(async () => {
  if (timings.length > 0) process.stdout.write(`# django e2e timings: ${timings.join('; ')}\n`);
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

/** The dry run on the fresh hosts, as events: what the real run must then do. */
let freshCheck: CliResult | undefined;

test('--check --diff on fresh hosts shows the planned files with secrets masked, and changes nothing', async () => {
  freshCheck = await run(['--check', '--json']);
  ok(freshCheck, 'check --json');
  const r = await run(['--check', '--diff']);
  ok(r, 'check');
  const out = r.stdout + r.stderr;
  for (const h of HOSTS) {
    // dma.conf is written by dma's postinst, which check mode does not run: unknown, not diffed
    assert.match(
      out,
      new RegExp(
        `^${h} +unknown +mta-dma: templateFile /etc/dma/dma\\.conf\n {4}/etc/dma/dma\\.conf: package dma, which an earlier task would install, may create or change it`,
        'm',
      ),
    );
    for (const file of [
      SETTINGS,
      '/etc/dma/auth.conf',
      `/etc/systemd/system/${P}.service`,
      `/usr/local/sbin/restart-${P}`,
      `/etc/cron.daily/${P}-clearsessions`,
    ]) {
      assert.ok(out.includes(`${h}:${file}`), `no diff for ${h}:${file}\n${out}`);
    }
  }
  // Masked by the sensitive diff itself (the key kept, the value hidden), not merely redacted
  // afterwards (which would leave the quotes: SECRET_KEY = "********").
  assert.match(out, /^ {4}\+SECRET_KEY = \*{8}$/m);
  // auth.conf replaces the package's own (a conffile of 4 comment lines), as the real run will
  for (const h of HOSTS)
    assert.ok(
      out.includes(
        `+++ ${h}:/etc/dma/auth.conf\t(after, values hidden)\n    -(line 1, value hidden)\n`,
      ) && out.includes('    -(line 4, value hidden)\n    +********\n'),
      out,
    );
  assert.match(out, /^ {4}\+ package python3-django$/m);
  // the index aged past the max age in before(): the install refreshes it first, and says why
  assert.match(out, /~ apt-get update \(updated 2 h ago, max 60 min\)/);
  assert.match(out, /~ restart fbdemo\.service/);
  // A dry run stores nothing, not even a generated secret: it used a temporary one, and says so.
  const s = await storedSecrets(secrets);
  assert.equal(s.django_secret_key, undefined, '--check stored a generated secret');
  assert.match(out, /warning: secret django_secret_key is not generated yet/);
  const password = s.smarthost_password ?? '';
  assert.ok(!out.includes(password), 'the smarthost password appears in the output');
  for (const h of HOSTS) {
    assert.equal(
      (
        await onHost(
          h,
          `if [ -e ${SETTINGS} ] || [ -e /etc/dma ] || getent passwd ${P} >/dev/null; then echo touched; else echo clean; fi`,
        )
      ).trim(),
      'clean',
      `--check changed ${h}`,
    );
  }
});

let convergedAt = 0;

test('the real run converges both hosts; verifyMail and sendtestemail pass', async () => {
  convergedAt = Date.now();
  const r = await run(['--json']);
  const took = Date.now() - convergedAt;
  timings.push(`first run ${seconds(took)}`);
  ok(r, 'first run');
  // The dry run on the fresh hosts told the truth, task by task. It cannot know the files dma's
  // postinst writes from its debconf answers (dma.conf, mailname), nor a shell check on the host
  // as the install would leave it: it says so, naming the package.
  assert.ok(freshCheck !== undefined, 'the fresh-host dry run did not run');
  assertPredicted(freshCheck, r, HOSTS);
  for (const h of HOSTS)
    assert.deepEqual(
      taskEnds(freshCheck, h)
        .filter((e) => e.outcome === 'unknown')
        .map((e) => e.task),
      [
        'mta-dma: templateFile /etc/dma/dma.conf',
        "mta-dma: command remove postfix's copy of the smarthost password",
        'mta-dma: copyFile /etc/mailname',
      ],
    );
  const key = (await storedSecrets(secrets)).django_secret_key ?? '';
  assert.ok(key.length >= 50, 'the real run generated and stored a SECRET_KEY of 50+ characters');
  assert.ok(!r.stdout.includes(key), 'SECRET_KEY appears in the output');
  for (const h of HOSTS) {
    const ends = taskEnds(r, h);
    assert.ok(
      ends.every((e) => e.outcome === 'ok' || e.outcome === 'changed'),
      JSON.stringify(ends.filter((e) => e.outcome !== 'ok' && e.outcome !== 'changed')),
    );
    assert.ok(ends.some((e) => e.outcome === 'changed'));
    const mail = ends.filter(
      (e) => e.taskType === 'verifyMail' || e.taskType === 'djangoSendTestEmail',
    );
    assert.deepEqual(
      mail.map((e) => [e.taskType, e.outcome]),
      [
        ['verifyMail', 'ok'],
        ['djangoSendTestEmail', 'ok'],
      ],
    );
    assert.match(mail[1]?.message ?? '', /2 messages accepted by the smarthost/);
    const restarts = ends.filter((e) => e.handler);
    assert.deepEqual(
      restarts.map((e) => [e.task, e.outcome]),
      [[RESTART, 'changed']],
    );
    assert.match(
      restarts[0]?.message ?? '',
      /answers on \/run\/fbdemo\/gunicorn\.sock: HTTP\/1\.[01] 200/,
    );
  }
});

test('a second run reports 0 changed', async () => {
  const t0 = Date.now();
  const r = await run(['--json']);
  timings.push(`no-change run ${seconds(Date.now() - t0)}`);
  ok(r, 'second run');
  for (const h of HOSTS) {
    const ends = taskEnds(r, h);
    assert.ok(ends.length > 20);
    assert.deepEqual(
      ends.filter((e) => e.outcome !== 'ok').map((e) => [e.task, e.outcome, e.changes]),
      [],
    );
  }
  const end = r.events.find((e) => e.type === 'run-end');
  assert.ok(
    end?.type === 'run-end' && end.recap.every((h) => h.changed === 0 && h.failed === 0),
    JSON.stringify(end),
  );
  // Without the mail checks (verify actions that send mail), nothing runs but the host's facts
  // (the playbook reads them) and the one read of its tasks' state: tasks that changed nothing must
  // not make later tasks read the host again.
  const quiet = await run(['--json', '--skip-tags', 'mail']);
  ok(quiet, 'no-change run without mail');
  const recap = quiet.events.find((e) => e.type === 'run-end');
  assert.deepEqual(
    recap?.type === 'run-end'
      ? recap.recap.map((h) => [h.host, h.changed, h.roundTrips]).sort()
      : [],
    HOSTS.map((h) => [h, 0, 2]),
  );
});

test('gunicorn answers HTTP on its unix socket (and redirects plain HTTP to HTTPS)', async () => {
  for (const h of HOSTS) {
    const res = await httpOnSocket(
      h,
      `GET / HTTP/1.0\r\nHost: ${devVars.domain}\r\nX-Forwarded-Proto: https\r\n\r\n`,
    );
    assert.match(res, /^HTTP\/1\.[01] 200 /, res);
    assert.match(res, /\r\n\r\nok\n$/, res);
    assert.match(
      res,
      /^Strict-Transport-Security: max-age=\d+; includeSubDomains; preload\r$/m,
      res,
    );
    const plain = await httpOnSocket(h, `GET / HTTP/1.0\r\nHost: ${devVars.domain}\r\n\r\n`);
    assert.match(plain, /^HTTP\/1\.[01] 301 /, plain);
    assert.match(
      plain,
      new RegExp(`^Location: https://${devVars.domain.replace(/\./g, '\\.')}/\\r$`, 'm'),
      plain,
    );
    assert.equal((await onHost(h, `systemctl show -p User --value ${P}.service`)).trim(), P);
  }
});

test('manage.py check --deploy --fail-level WARNING passes as the app user; files and jobs are in place', async () => {
  for (const h of HOSTS) {
    const r = await labSsh(
      h,
      `su ${P} -s /bin/sh -c "python3 /opt/${P}/manage.py check --deploy --fail-level WARNING"`,
    );
    assert.equal(r.code, 0, `${h}: check --deploy: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout + r.stderr, /System check identified no issues/);
    const attrs = await onHost(
      h,
      `stat -c '%n %a %U %G' ${SETTINGS} /etc/dma/auth.conf /etc/dma/dma.conf /var/opt/${P} /var/log/${P} /var/cache/${P}/cache /etc/cron.daily/${P}-clearsessions /usr/local/sbin/restart-${P}`,
    );
    assert.equal(
      attrs,
      [
        `${SETTINGS} 640 root ${P}`,
        '/etc/dma/auth.conf 640 root mail',
        '/etc/dma/dma.conf 640 root mail',
        `/var/opt/${P} 750 ${P} ${P}`,
        `/var/log/${P} 750 ${P} ${P}`,
        `/var/cache/${P}/cache 750 ${P} ${P}`,
        `/etc/cron.daily/${P}-clearsessions 755 root root`,
        `/usr/local/sbin/restart-${P} 755 root root`,
        '',
      ].join('\n'),
    );
    assert.equal((await onHost(h, 'cat /etc/mailname')).trim(), devVars.domain);
    assert.match(
      await onHost(h, 'cat /etc/aliases'),
      new RegExp(`^root: ${devVars.admins[0]?.email ?? ''}$`, 'm'),
    );
    assert.match(await onHost(h, 'dma -bp'), /Mail queue is empty/);
    assert.match(
      await onHost(h, 'run-parts --test /etc/cron.daily'),
      new RegExp(`^/etc/cron.daily/${P}-clearsessions$`, 'm'),
    );
    const job = await labSsh(h, `/etc/cron.daily/${P}-clearsessions`);
    assert.equal(job.code, 0, `${h}: clearsessions: ${job.stderr}`);
    assert.equal(
      (
        await onHost(h, `find /var/opt/${P} /var/log/${P} /var/cache/${P} ! -user ${P} | wc -l`)
      ).trim(),
      '0',
      'a file the app uses is not owned by the app user',
    );
  }
});

test('the smarthost holds, for each host, the verifyMail and the sendtestemail message, over TLS with AUTH', async () => {
  const since = new Date(convergedAt - 1000).toISOString();
  const mail = (await readLabMail()).filter((m) => m.receivedAt >= since);
  const first = devVars.admins[0]?.email ?? '';
  for (const h of HOSTS) {
    const verify = mail.filter(
      (m) =>
        /^Subject: fleetbook verifyMail \S+$/m.test(unfolded(m)) &&
        unfolded(m).includes(`verifyMail on ${h}.`),
    );
    assert.ok(verify.length >= 1, `${h}: no verifyMail message at the smarthost`);
    const django = mail.filter((m) =>
      new RegExp(`^Subject: \\[${P} development\\] Test email from ${h} on `, 'm').test(
        unfolded(m),
      ),
    );
    // sendtestemail --admins: one message to every admin, which dma delivers once per recipient.
    assert.deepEqual(
      [...new Set(django.flatMap((m) => m.to))].sort(),
      devVars.admins.map((a) => a.email).sort(),
      `${h}: sendtestemail recipients`,
    );
    for (const m of [...verify, ...django]) {
      assert.equal(m.tls, true, `${h}: ${m.id} was not sent over TLS`);
      assert.equal(
        m.authUser,
        info.smarthost.user,
        `${h}: ${m.id} was not authenticated as ${info.smarthost.user}`,
      );
      assert.equal(m.from, `noreply@${devVars.domain}`);
    }
    assert.deepEqual(verify[0]?.to, [first]);
  }
});

test('port 465: dma uses implicit TLS (no STARTTLS) and still delivers', async () => {
  const inv465 = await writeInventory(path.join(work, 'lab-465.yaml'), (v) => {
    v.smarthost.port = info.smarthost.tlsPort;
  });
  const t0 = new Date(Date.now() - 1000).toISOString();
  const r = await fleetbook(
    ['run', PLAYBOOK, '-i', inv465, '--limit', 'lab5', '--tags', 'mta,mail', '--json'],
    { FLEETBOOK_SECRETS_DIR: secrets },
  );
  ok(r, '465 run');
  const conf = await onHost('lab5', 'cat /etc/dma/dma.conf');
  assert.match(conf, new RegExp(`^PORT ${info.smarthost.tlsPort}$`, 'm'));
  assert.match(conf, /^SECURETRANSFER$/m);
  assert.doesNotMatch(conf, /^STARTTLS$/m);
  const got = (await readLabMail()).filter(
    (m) => m.receivedAt >= t0 && unfolded(m).includes('verifyMail on lab5.'),
  );
  assert.ok(
    got.length >= 1 && got.every((m) => m.tls && m.authUser === info.smarthost.user),
    JSON.stringify(got.map((m) => ({ ...m, raw: undefined }))),
  );
  ok(
    await fleetbook(['run', PLAYBOOK, '-i', inventory, '--limit', 'lab5', '--tags', 'mta'], {
      FLEETBOOK_SECRETS_DIR: secrets,
    }),
    'back to 587',
  );
  assert.match(await onHost('lab5', 'cat /etc/dma/dma.conf'), /^STARTTLS$/m);
});

test('wrong smarthost password: verifyMail fails within its timeout quoting dma, and the host is put back', async (t: TestContext) => {
  const good = await storedSecrets(secrets);
  const wrongPassword = `wrong-${randomBytes(8).toString('hex')}`;
  const wrong = await secretsDir({ ...good, smarthost_password: wrongPassword });
  const before = await Promise.all(HOSTS.map((h) => onHost(h, 'sha256sum /etc/dma/auth.conf')));
  const timeoutMs = 60_000; // the playbook's mailTimeoutSeconds default
  const r = await run(['--tags', 'mta,mail', '--json'], { secretsDir: wrong });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  for (const [i, h] of HOSTS.entries()) {
    const ends = taskEnds(r, h);
    const auth = ends.find((e) => e.task.includes('auth.conf'));
    assert.equal(auth?.outcome, 'changed', 'auth.conf got the wrong password first');
    const vm = ends.find((e) => e.taskType === 'verifyMail');
    assert.equal(vm?.outcome, 'failed', JSON.stringify(ends.map((e) => [e.task, e.outcome])));
    const text = `${vm.message ?? ''}\n${vm.details ?? ''}`;
    // dma's own log line, e.g. `dma[1a2b3c.5d6e]: remote delivery failed: AUTH login failed: 535 ...`
    assert.match(
      vm.message ?? '',
      /dma\[[0-9a-f.]+\]: .*(AUTH login failed|SMTP login failed|authentication)/i,
      text,
    );
    assert.ok(vm.durationMs < timeoutMs, `verifyMail took ${vm.durationMs} ms`);
    t.diagnostic(`${h}: verifyMail failed after ${vm.durationMs} ms: ${vm.message ?? ''}`);
    assert.ok(!(r.stdout + r.stderr).includes(wrongPassword), 'the wrong password was printed');
    assert.ok(
      r.events.some(
        (e) =>
          e.type === 'rollback' && e.host === h && e.ok && e.step.includes('/etc/dma/auth.conf'),
      ),
      'auth.conf was not rolled back',
    );
    assert.equal(
      await onHost(h, 'sha256sum /etc/dma/auth.conf'),
      before[i],
      `${h}: auth.conf was not restored`,
    );
  }
  // With the right password again, mail flows (and nothing is left stuck in the queue).
  const again = await run(['--tags', 'mta,mail', '--json']);
  ok(again, 'mail run after the failure');
  for (const h of HOSTS)
    assert.ok(
      taskEnds(again, h).every((e) => e.outcome === 'ok'),
      JSON.stringify(taskEnds(again, h)),
    );
});

test('changing one admin address: --check --diff shows exactly that line, the real run restarts once per host', async () => {
  const changed = await writeInventory(path.join(work, 'lab-admin.yaml'), (v) => {
    const second = v.admins[1];
    if (second !== undefined)
      second.email = `changed-${randomBytes(3).toString('hex')}@example.org`;
  });
  const view = await run(['--check', '--diff'], { inventory: changed });
  ok(view, 'check --diff (terminal)');
  const c = await run(['--check', '--diff', '--json'], { inventory: changed });
  ok(c, 'check --diff --json');
  for (const h of HOSTS) {
    const ends = taskEnds(c, h).filter((e) => !e.handler);
    const moving = ends.filter((e) => e.outcome !== 'ok');
    assert.deepEqual(
      moving.map((e) => [e.task, e.outcome]),
      [[`django-app: templateFile ${SETTINGS}`, 'would-change']],
    );
    const parts = moving[0]?.diff ?? [];
    assert.equal(parts.length, 1, JSON.stringify(parts));
    const part = parts[0];
    assert.ok(part?.kind === 'file');
    const lines = part.unified
      .split('\n')
      .filter((l) => /^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l));
    assert.deepEqual(
      lines.map((l) => l.replace(/line \d+/, 'line N')),
      ['-(line N, value hidden)', '+ADMINS = ********'],
      part.unified,
    );
    assert.ok(
      view.stdout.includes(`${h}:${SETTINGS}\t(after, values hidden)`) &&
        /^ {4}\+ADMINS = \*{8}$/m.test(view.stdout),
      view.stdout,
    );
    assert.deepEqual(
      taskEnds(c, h)
        .filter((e) => e.handler)
        .map((e) => [e.task, e.outcome]),
      [[RESTART, 'would-change']],
    );
  }

  const since = Object.fromEntries(
    await Promise.all(HOSTS.map(async (h) => [h, await hostNow(h)] as const)),
  );
  const pids = Object.fromEntries(
    await Promise.all(
      HOSTS.map(
        async (h) =>
          [h, (await onHost(h, `systemctl show -p MainPID --value ${P}.service`)).trim()] as const,
      ),
    ),
  );
  const a = await run(['--json', '--skip-tags', 'mail'], { inventory: changed });
  ok(a, 'apply the admin change');
  for (const h of HOSTS) {
    const handlers = taskEnds(a, h).filter((e) => e.handler);
    assert.deepEqual(
      handlers.map((e) => [e.task, e.outcome]),
      [[RESTART, 'changed']],
    );
    const starts = await onHost(
      h,
      `journalctl -u ${P}.service --since=@${since[h] ?? 0} --no-pager -o cat | grep -c 'Starting gunicorn' || true`,
    );
    assert.equal(starts.trim(), '1', `${h}: gunicorn started ${starts.trim()} times`);
    assert.notEqual(
      (await onHost(h, `systemctl show -p MainPID --value ${P}.service`)).trim(),
      pids[h],
    );
    assert.match(await onHost(h, `grep -c '^ADMINS = ' ${SETTINGS}`), /^1$/m);
  }
  // And back, so later tests start from the development vars.
  ok(await run(['--skip-tags', 'mail']), 'revert the admin change');
});

async function filesUnder(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

test('secret canary: SECRET_KEY and password appear in no output and no controller-side file', async (t: TestContext) => {
  const keyCanary = `CANARYKEY${randomBytes(30).toString('hex')}`;
  const pwCanary = `CANARYPW${randomBytes(12).toString('hex')}`;
  const canaries = await secretsDir({ django_secret_key: keyCanary, smarthost_password: pwCanary });
  const stateDir = path.join(ROOT, '.fleetbook');
  await mkdir(stateDir, { recursive: true });
  const outputs: [string, CliResult][] = [];
  const go = async (
    what: string,
    args: readonly string[],
    playbook?: string,
  ): Promise<CliResult> => {
    const r = await run(args, {
      secretsDir: canaries,
      ...(playbook !== undefined ? { playbook } : {}),
    });
    outputs.push([what, r]);
    return r;
  };

  const check = await go('check --diff', ['--check', '--diff', '--skip-tags', 'mail']);
  ok(check, 'canary check');
  assert.match(check.stdout, /^ {4}\+SECRET_KEY = \*{8}$/m);
  ok(
    await go('check --diff --json', ['--check', '--diff', '--json', '--skip-tags', 'mail']),
    'canary check --json',
  );

  // A failure after the canaries were written: the failing task prints both files; rollback restores them.
  const failed = await go(
    'forced failure',
    ['--diff', '--skip-tags', 'mail'],
    'test/e2e/playbooks/django-forced-failure.ts',
  );
  assert.equal(failed.code, 2, failed.stdout + failed.stderr);
  assert.match(failed.stdout + failed.stderr, /forced failure/);
  for (const h of HOSTS)
    assert.equal(
      (await onHost(h, `grep -c CANARY ${SETTINGS} /etc/dma/auth.conf || true`)).trim(),
      `${SETTINGS}:0\n/etc/dma/auth.conf:0`,
      `${h}: rollback`,
    );
  const failedJson = await go(
    'forced failure --json',
    ['--json', '--skip-tags', 'mail'],
    'test/e2e/playbooks/django-forced-failure.ts',
  );
  assert.equal(failedJson.code, 2);
  // The failing task printed both secret-bearing lines; its details show them masked.
  const details = taskEnds(failedJson)
    .filter((e) => e.outcome === 'failed')
    .map((e) => e.details ?? '');
  assert.equal(details.length, HOSTS.length);
  for (const d of details) {
    assert.match(d, /^SECRET_KEY = "\*{8}"$/m, d);
    assert.ok(d.includes(`${info.smarthost.user}|${info.smarthost.host}:********`), d);
  }

  const apply = await go('apply', ['--diff', '--skip-tags', 'mail']);
  ok(apply, 'canary apply');
  ok(await go('apply --json', ['--json', '--diff', '--skip-tags', 'mail']), 'canary apply --json');
  // The canaries really reached the hosts, so their absence from the output means something.
  for (const h of HOSTS)
    assert.equal(
      (
        await onHost(h, `grep -c ${keyCanary} ${SETTINGS}; grep -c ${pwCanary} /etc/dma/auth.conf`)
      ).trim(),
      '1\n1',
    );
  // A mail failure with the canary password (its error quotes dma's log).
  const mailFail = await go('mail with the canary password --json', ['--json', '--tags', 'mail']);
  assert.equal(mailFail.code, 2);

  for (const [what, r] of outputs) {
    for (const c of [keyCanary, pwCanary]) {
      assert.ok(!r.stdout.includes(c), `${what}: canary in stdout`);
      assert.ok(!r.stderr.includes(c), `${what}: canary in stderr`);
    }
  }
  const files = [
    ...(await filesUnder(stateDir)),
    // the store itself too: it holds only ciphertext and public keys
    ...(await filesUnder(canaries)),
  ];
  t.diagnostic(
    `scanned ${files.length} controller-side files under ${stateDir} and the secrets dir`,
  );
  for (const f of files) {
    const text = await readFile(f, 'latin1');
    for (const c of [keyCanary, pwCanary]) assert.ok(!text.includes(c), `canary found in ${f}`);
  }

  // Put the hosts back on the real secrets; mail flows again.
  ok(await run([]), 'restore the real secrets');
  for (const h of HOSTS)
    assert.equal((await onHost(h, `grep -c CANARY ${SETTINGS} || true`)).trim(), '0');
});

test('postfix as a satellite (implicit TLS on 465) on lab5 relays both messages, then back to dma', async () => {
  const postfixInv = await writeInventory(path.join(work, 'lab-postfix.yaml'), (v) => {
    v.mta = 'postfix';
    v.smarthost.port = info.smarthost.tlsPort;
  });
  const t0 = new Date(Date.now() - 1000).toISOString();
  const r = await fleetbook(['run', PLAYBOOK, '-i', postfixInv, '--limit', 'lab5', '--json'], {
    FLEETBOOK_SECRETS_DIR: secrets,
  });
  ok(r, 'postfix run');
  const mail = taskEnds(r, 'lab5').filter(
    (e) => e.taskType === 'verifyMail' || e.taskType === 'djangoSendTestEmail',
  );
  assert.deepEqual(
    mail.map((e) => e.outcome),
    ['ok', 'ok'],
    JSON.stringify(mail),
  );
  // Switching MTA leaves a healthy host: no unit of the replaced MTA left failed.
  await assertHealthy(['lab5']);
  const check = await labSsh('lab5', 'postfix check');
  assert.equal(check.code, 0, `postfix check: ${check.stderr}`);
  assert.equal(
    (
      await onHost(
        'lab5',
        'postconf -M smtp/inet 2>/dev/null; postconf -h smtp_tls_wrappermode relayhost inet_interfaces smtp_tls_security_level',
      )
    ).trim(),
    `yes\n[127.0.0.1]:${info.smarthost.tlsPort}\nloopback-only\nencrypt`,
  );
  assert.equal(
    await onHost(
      'lab5',
      'stat -c "%n %a %U" /etc/postfix/sasl_passwd /etc/postfix/sasl_passwd.db; [ ! -e /etc/dma/auth.conf ] && echo no-dma-password',
    ),
    '/etc/postfix/sasl_passwd 600 root\n/etc/postfix/sasl_passwd.db 600 root\nno-dma-password\n',
  );
  const got = (await readLabMail()).filter((m) => m.receivedAt >= t0);
  const verify = got.filter((m) => unfolded(m).includes('verifyMail on lab5.'));
  const django = got.filter((m) =>
    /^Subject: \[fbdemo development\] Test email from lab5 on /m.test(unfolded(m)),
  );
  assert.ok(
    verify.length >= 1 && django.length >= 1,
    `postfix: ${verify.length} verifyMail, ${django.length} sendtestemail messages`,
  );
  for (const m of [...verify, ...django]) {
    assert.equal(m.tls, true);
    assert.equal(m.authUser, info.smarthost.user);
  }
  const again = await fleetbook(['run', PLAYBOOK, '-i', postfixInv, '--limit', 'lab5', '--json'], {
    FLEETBOOK_SECRETS_DIR: secrets,
  });
  ok(again, 'postfix second run');
  assert.deepEqual(
    taskEnds(again, 'lab5')
      .filter((e) => e.outcome !== 'ok')
      .map((e) => [e.task, e.outcome]),
    [],
  );

  const back = await fleetbook(['run', PLAYBOOK, '-i', inventory, '--limit', 'lab5', '--json'], {
    FLEETBOOK_SECRETS_DIR: secrets,
  });
  ok(back, 'back to dma');
  await assertHealthy(['lab5']);
  assert.match(await onHost('lab5', "dpkg-query -W -f='${Status}' dma"), /install ok installed/);
  assert.equal(
    (
      await onHost(
        'lab5',
        '[ ! -e /etc/postfix/sasl_passwd ] && [ ! -e /etc/postfix/sasl_passwd.db ] && echo gone',
      )
    ).trim(),
    'gone',
  );
});
