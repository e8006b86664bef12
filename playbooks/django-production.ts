/**
 * The reference deployment: a Django project in production, the same playbook for every
 * environment (inventories/production.yaml, staging.yaml, development.yaml).
 *
 *   fleetbook secret set production smarthost_password        # once per environment (stdin)
 *   fleetbook run playbooks/django-production.ts -i inventories/production.yaml --check --diff
 *   fleetbook run playbooks/django-production.ts -i inventories/production.yaml
 *
 * On each host: python3-django and gunicorn from Debian; the demo project (playbooks/files/PROJECT)
 * in /opt/PROJECT, run by the system user PROJECT as PROJECT.service (gunicorn on
 * /run/PROJECT/gunicorn.sock); its settings in /etc/opt/PROJECT/settings.py (root:PROJECT 0640,
 * checked by Python before it replaces the live file); data, logs and cache under /var; a daily
 * clearsessions job; mail through dma (or postfix as a satellite) to the environment's smarthost,
 * proven at the end by verifyMail and by Django's own `sendtestemail --admins`.
 *
 * Secrets (never in the inventory, never printed): SECRET_KEY is generated once per environment,
 * the smarthost password is set by an operator. Both live in .fleetbook/secrets/ENV.json (0600,
 * git-ignored); a team shares them through its password manager or an encrypted copy of that file
 * (for example `age -R team.keys`), never through git.
 *
 * Tags: `mta` (the MTA's configuration), `mail` (the tasks that send mail). `--skip-tags mail`
 * converges a host without sending anything; `--tags mta,mail` re-checks only the mail path.
 *
 * Also shows how to write custom tasks (defineTask) next to a playbook: restartApp (the restart
 * handler, which proves the app answers afterwards), djangoMigrate (migrate when the code or
 * Django changed, told by a stamp rather than by starting Python), djangoSendTestEmail (Django's
 * own mail path, followed to the smarthost in the MTA's log), postfixMap (a lookup table and its
 * postmap'd database as one task) and postfixReload (reload postfix when the configuration it runs
 * with is not the one on disk).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ConfigError,
  defineTask,
  definePlaybook,
  fact,
  planWholeFile,
  renderTemplate,
  sha256,
  sh,
  TaskFailure,
  templateData,
  Type,
  wholeFileProbe,
  type Change,
  type RemoteShell,
  type Static,
  type Step,
  type TaskEntry,
  type VerifyAction,
} from 'fleetbook';
import {
  aptInstall,
  command,
  copyFile,
  cronDaily,
  ensureDir,
  ensureService,
  ensureUser,
  templateFile,
  verifyMail,
} from 'fleetbook/tasks';

// ---------------------------------------------------------------------------------------------
// Vars

const Email = Type.String({
  pattern: '^[^\\s@<>()\\[\\]",;:\\\\]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$',
  maxLength: 254,
  description: 'an email address',
});
const Hostname = Type.String({
  pattern:
    '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$',
  maxLength: 253,
  description: 'a host name or IPv4 address',
});

const DjangoVars = Type.Object({
  /** Python package, system user, service and directory name. */
  project: Type.String({
    pattern: '^[a-z][a-z0-9_]{0,30}$',
    description: 'a lower-case Python identifier',
  }),
  /** The site's domain: mail goes out as noreply@DOMAIN, /etc/mailname holds it. */
  domain: Hostname,
  /** Django's ALLOWED_HOSTS; default [domain]. ".example.org" matches the domain and its subdomains. */
  allowedHosts: Type.Optional(
    Type.Array(
      Type.String({
        pattern: '^\\.?[A-Za-z0-9.-]+$|^\\*$',
        description: 'a host name, ".domain" or "*"',
      }),
      {
        minItems: 1,
      },
    ),
  ),
  /** ADMINS (and MANAGERS); the first also receives root's mail and the verifyMail message. */
  admins: Type.Array(
    Type.Object(
      { name: Type.String({ minLength: 1, pattern: '^[^\\r\\n]*$' }), email: Email },
      { additionalProperties: false },
    ),
    { minItems: 1 },
  ),
  /** Where the host's MTA relays all mail: 587 = submission with STARTTLS, 465 = implicit TLS. */
  smarthost: Type.Object(
    {
      host: Hostname,
      port: Type.Union([Type.Literal(587), Type.Literal(465)]),
      user: Type.String({
        pattern: '^[^\\s|:]+$',
        description: 'a login without spaces, "|" or ":"',
      }),
    },
    { additionalProperties: false },
  ),
  mta: Type.Union([Type.Literal('dma'), Type.Literal('postfix')]),
  timeZone: Type.String({
    pattern: '^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$',
    description: 'a tz name such as "Europe/Berlin"',
  }),
  languageCode: Type.String({ pattern: '^[a-z]{2,3}(-[a-z0-9]{2,8})*$' }),
  /** gunicorn worker processes. */
  workers: Type.Integer({ minimum: 1, maximum: 64 }),
  /** SECURE_HSTS_SECONDS: start small on a new domain, then a year (31536000) once HTTPS is certain. */
  hstsSeconds: Type.Integer({ minimum: 1 }),
  /** How long verifyMail and sendtestemail wait for the smarthost to accept a message. */
  mailTimeoutSeconds: Type.Integer({ minimum: 5, maximum: 600 }),
});
type DjangoVars = Static<typeof DjangoVars>;

const HERE = path.dirname(fileURLToPath(import.meta.url));

interface ProjectTree {
  readonly dirs: string[];
  readonly files: string[];
}

/** Walked once per run and project: every host deploys the same tree. */
const trees = new Map<string, ProjectTree>();

/** The demo project's files, relative to playbooks/files/PROJECT (directories first, then files). */
function projectTree(project: string): ProjectTree {
  const known = trees.get(project);
  if (known !== undefined) return known;
  const root = path.join(HERE, 'files', project);
  const dirs: string[] = [];
  const files: string[] = [];
  const walk = (rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(path.join(root, rel)).sort();
    } catch {
      throw new ConfigError(
        `project "${project}": its code must be in ${path.relative(process.cwd(), root)}/ (manage.py and the ${project} package)`,
        { field: 'project' },
      );
    }
    for (const name of names) {
      if (name === '__pycache__' || name.endsWith('.pyc') || name.startsWith('.')) continue;
      const r = rel === '' ? name : `${rel}/${name}`;
      if (statSync(path.join(root, r)).isDirectory()) {
        dirs.push(r);
        walk(r);
      } else files.push(r);
    }
  };
  walk('');
  trees.set(project, { dirs, files });
  return { dirs, files };
}

// ---------------------------------------------------------------------------------------------
// Custom tasks

const ProjectName = Type.String({ pattern: '^[a-z][a-z0-9_]{0,30}$' });

/** Python, run on the host: GET a path on the app's unix socket until it answers 200 or time runs out. */
const HTTP_PROBE = `
import socket, sys, time
sock, host, path, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
deadline = time.monotonic() + timeout
last = 'no answer'
while True:
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(sock)
        s.sendall(('GET %s HTTP/1.0\\r\\nHost: %s\\r\\n\\r\\n' % (path, host)).encode('ascii'))
        data = b''
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        last = data.split(b'\\r\\n', 1)[0].decode('latin-1')
        if last.split(' ')[1:2] == ['200']:
            print(last)
            sys.exit(0)
    except OSError as e:
        last = '%s: %s' % (sock, e)
    if time.monotonic() >= deadline:
        print(last)
        sys.exit(1)
    time.sleep(0.5)
`;

function answersCheck(p: {
  project: string;
  httpHost: string;
  timeoutSeconds?: number | undefined;
}): VerifyAction {
  const sock = `/run/${p.project}/gunicorn.sock`;
  const timeout = p.timeoutSeconds ?? 30;
  return {
    describe: `check that ${p.project} answers GET /health on ${sock}`,
    async run(shell: RemoteShell) {
      const res = await shell.exec(
        sh`python3 - ${[sock, p.httpHost, '/health', String(timeout)]}`,
        { stdin: HTTP_PROBE },
      );
      if (res.code === 0) return `${p.project} answers on ${sock}: ${res.stdout.trim()}`;
      const journal = await shell.exec(
        sh`journalctl -u ${`${p.project}.service`} -n 20 --no-pager -o short 2>&1`,
      );
      throw new TaskFailure(
        `${p.project} does not answer on ${sock} after the restart (${timeout}s): ${res.stdout.trim() || res.stderr.trim()}`,
        `last 20 journal lines of ${p.project}.service:\n${journal.stdout.trimEnd()}`,
      );
    },
  };
}

/**
 * The restart handler: /usr/local/sbin/restart-PROJECT (compileall, then systemctl restart), then
 * proof that the app answers on its socket. Acts only when notified. In check mode it reports the
 * restart it would do; it fails rather than guess when the script or the unit would not exist.
 */
export const restartApp = defineTask({
  type: 'restartApp',
  params: Type.Object(
    {
      project: ProjectName,
      /** Host header of the health request (one of ALLOWED_HOSTS). */
      httpHost: Hostname,
      timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 600 })),
    },
    { additionalProperties: false },
  ),
  describe: (p) => p.project,
  probe: (p) => ({
    script: fact.file(`/usr/local/sbin/restart-${p.project}`),
    unit: fact.file(`/etc/systemd/system/${p.project}.service`),
  }),
  plan: (p, facts, _prepared, ctx) => {
    if (!ctx.notified) return { status: 'ok', note: 'not notified' };
    const missing = [facts.script, facts.unit].filter((f) => !f.exists).map((f) => f.path);
    if (missing.length > 0) {
      return {
        status: 'fail',
        message: `cannot restart ${p.project}: ${missing.join(' and ')} missing (written by earlier tasks of this playbook)`,
      };
    }
    const script = facts.script.path;
    const restart: Step = {
      op: 'run',
      describe: `systemctl daemon-reload; ${script}`,
      script: sh`systemctl daemon-reload && ${script}`,
    };
    const change: Change = {
      summary: `restart ${p.project}.service (${script})`,
      diff: [
        {
          kind: 'item',
          sign: '~',
          text: `restart ${p.project}.service (compileall, then systemctl restart)`,
        },
      ],
      // daemon-reload first: a unit file changed by this run is otherwise not the one restarted.
      steps: [restart],
      // A restart cannot be undone; after an undo it is replayed so the app runs the restored files.
      undo: [],
      afterUndo: [restart],
      effects: [
        { kind: 'service', fact: { name: `${p.project}.service`, exists: true, active: 'active' } },
      ],
    };
    return { status: 'change', changes: [change], verify: [answersCheck(p)] };
  },
});

/** Per project: one hash of its code, read once per run. */
const codeHashes = new Map<string, string>();

function codeHash(project: string): string {
  let h = codeHashes.get(project);
  if (h === undefined) {
    const root = path.join(HERE, 'files', project);
    const lines = projectTree(project).files.map(
      (f) => `${sha256(readFileSync(path.join(root, f)))}  ${f}\n`,
    );
    h = sha256(lines.join(''));
    codeHashes.set(project, h);
  }
  return h;
}

/**
 * `manage.py migrate` when the code or Django changed since the last migrate on this host (or
 * there is no database yet). A stamp next to the database records the Django version and the
 * code's hash it was migrated with, so the no-change run reads one file's hash instead of starting
 * Python and Django (`migrate --check` costs ~0.2 s of CPU per host). A database restored from an
 * older backup is not noticed: remove the stamp after restoring one.
 */
export const djangoMigrate = defineTask({
  type: 'djangoMigrate',
  params: Type.Object({ project: ProjectName }, { additionalProperties: false }),
  describe: (p) => `manage.py migrate (as ${p.project})`,
  prepare: (p) => Promise.resolve({ code: codeHash(p.project) }),
  probe: (p) => ({
    django: fact.packages(['python3-django']),
    db: fact.file(`/var/opt/${p.project}/db.sqlite3`),
    stamp: fact.file(migrateStamp(p.project)),
  }),
  plan: (p, facts, prepared) => {
    const version = facts.django['python3-django']?.version ?? 'not installed';
    const stamp = `python3-django ${version}\ncode sha256 ${prepared.code}\n`;
    if (facts.db.exists && facts.stamp.sha256 === sha256(stamp))
      return { status: 'ok', note: 'migrated with this code and Django' };
    const why = !facts.db.exists
      ? 'no database yet'
      : !facts.stamp.exists
        ? 'no record of a migrate'
        : 'the code or Django changed since the last migrate';
    const P = p.project;
    return {
      status: 'change',
      changes: [
        {
          summary: `run manage.py migrate as ${P} (${why}; a migration cannot be undone)`,
          diff: [{ kind: 'item', sign: '~', text: `run: manage.py migrate (as ${P})` }],
          steps: [
            {
              op: 'run',
              describe: `manage.py migrate (as ${P})`,
              script: sh`umask 027; runuser -u ${P} -- python3 ${`/opt/${P}/manage.py`} migrate --noinput`,
            },
            {
              op: 'write',
              path: migrateStamp(P),
              content: Buffer.from(stamp),
              mode: '0640',
              owner: P,
              group: P,
            },
          ],
          undo: [],
          effects: [
            {
              kind: 'file',
              fact: {
                ...facts.stamp,
                exists: true,
                type: 'file',
                mode: '0640',
                owner: P,
                group: P,
                size: stamp.length,
                sha256: sha256(stamp),
              },
            },
          ],
        },
      ],
    };
  },
});

function migrateStamp(project: string): string {
  return `/var/opt/${project}/.fleetbook-migrated`;
}

interface JournalLine {
  readonly ident: string;
  /** SYSLOG_PID as logged: dma logs its queue id there. */
  readonly tag: string;
  /** _PID: the process that logged the line. */
  readonly pid: string;
  readonly message: string;
}

function parseJournal(stdout: string): JournalLine[] {
  const out: JournalLine[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      if (typeof o.MESSAGE !== 'string') continue;
      out.push({
        ident: typeof o.SYSLOG_IDENTIFIER === 'string' ? o.SYSLOG_IDENTIFIER : '',
        tag: typeof o.SYSLOG_PID === 'string' ? o.SYSLOG_PID : '',
        pid: typeof o._PID === 'string' ? o._PID : '',
        message: o.MESSAGE.trimEnd(),
      });
    } catch {
      // not a journal entry
    }
  }
  return out;
}

type Delivery =
  | { state: 'pending'; last?: string }
  | { state: 'delivered'; ids: string[] }
  | { state: 'failed'; line: string };

/**
 * What dma logged about the messages the app user submitted. The sendmail process logs
 * `new mail from user=PROJECT ...` and one `mail to=<ADDR> queued as ID` per recipient; a
 * delivery process then logs under that ID. dma's ids come from the spool file's inode and a heap
 * address, so an id can come back for a later message: only lines logged after the intake count,
 * and the intake is tied to its `queued as` lines by the process (_PID) that logged both.
 */
export function judgeDmaForUser(lines: readonly JournalLine[], user: string): Delivery {
  const dma = lines.filter((l) => l.ident === 'dma');
  const intake = dma.findIndex((l) => l.message.startsWith(`new mail from user=${user} `));
  const sender = dma[intake];
  if (sender === undefined) return { state: 'pending' };
  const after = dma.slice(intake);
  const items = after.flatMap((l) => {
    const m = l.pid === sender.pid ? /^mail to=<(.*)> queued as (\S+)$/.exec(l.message) : null;
    return m?.[1] !== undefined && m[2] !== undefined ? [{ addr: m[1], id: m[2] }] : [];
  });
  if (items.length === 0) return { state: 'pending' };
  let last: string | undefined;
  for (const { addr, id } of items) {
    const mine = after.filter((l) => l.tag === id);
    const bad = mine.find((l) =>
      /remote delivery failed|permanent failure|bounce|AUTH login failed|SMTP login failed|authentication failed/i.test(
        l.message,
      ),
    );
    if (bad !== undefined) return { state: 'failed', line: `dma[${bad.tag}]: ${bad.message}` };
    // Success is "delivery successful" on the same id as "using smarthost" (not a local delivery).
    const ok =
      mine.some((l) => l.message === `<${addr}> delivery successful`) &&
      mine.some((l) => l.message.startsWith('using smarthost'));
    if (!ok) {
      const l = mine[mine.length - 1];
      last =
        l !== undefined ? `dma[${l.tag}]: ${l.message}` : `${id} (to ${addr}): nothing logged yet`;
    }
  }
  return last === undefined
    ? { state: 'delivered', ids: items.map((i) => i.id) }
    : { state: 'pending', last };
}

/** postfix: pickup logs `QID: uid=UID from=<...>`; smtp `QID: to=<...>, relay=..., status=...`; qmgr `QID: removed`. */
export function judgePostfixForUid(lines: readonly JournalLine[], uid: string): Delivery {
  const pf = lines.filter((l) => l.ident.startsWith('postfix/'));
  const intake = new RegExp(`^([0-9A-Za-z]+): uid=${uid} from=`);
  // Queue ids can come back later (they derive from inode numbers): only lines after the pickup count.
  const picked = pf.flatMap((l, at) => {
    const id = l.ident === 'postfix/pickup' ? intake.exec(l.message)?.[1] : undefined;
    return id !== undefined ? [{ id, at }] : [];
  });
  if (picked.length === 0) return { state: 'pending' };
  const ids = picked.map((p) => p.id);
  let last: string | undefined;
  for (const { id, at } of picked) {
    const mine = pf.slice(at).filter((l) => l.message.startsWith(`${id}: `));
    const bad = mine.find(
      (l) =>
        /status=(bounced|expired)/.test(l.message) ||
        (/status=sent/.test(l.message) && /relay=(local|none)\b/.test(l.message)),
    );
    if (bad !== undefined) return { state: 'failed', line: `${bad.ident}: ${bad.message}` };
    // qmgr removes a message once every recipient is done; a deferral keeps it and is retried.
    if (!mine.some((l) => l.message === `${id}: removed`)) {
      const l = mine[mine.length - 1];
      last = l !== undefined ? `${l.ident}: ${l.message}` : `queue id ${id}: nothing logged yet`;
    }
  }
  return last === undefined ? { state: 'delivered', ids } : { state: 'pending', last };
}

/**
 * Django's own mail path: `manage.py sendtestemail --admins` as the app user, then the MTA's log
 * must show every resulting message accepted by the smarthost. Changes nothing on the host, so the
 * outcome is ok (the proof runs after apply, never in check mode), like verifyMail.
 */
export const djangoSendTestEmail = defineTask({
  type: 'djangoSendTestEmail',
  params: Type.Object(
    {
      project: ProjectName,
      mta: Type.Union([Type.Literal('dma'), Type.Literal('postfix')]),
      timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 600 })),
    },
    { additionalProperties: false },
  ),
  describe: (p) => `${p.project} sendtestemail --admins`,
  probe: () => ({}),
  plan: (p) => ({
    status: 'ok',
    note: `Django's test mail to the ADMINS, sent by manage.py sendtestemail --admins as ${p.project}`,
    verify: [
      {
        describe: `check that Django's test mail reaches the smarthost`,
        sideEffect: `sends Django's test message to the ADMINS`,
        async run(shell: RemoteShell) {
          const timeout = p.timeoutSeconds ?? 60;
          const manage = `/opt/${p.project}/manage.py`;
          const sent = await shell.exec(
            sh`echo "since=$(date +%s)"; echo "uid=$(id -u ${p.project})"; out=$(runuser -u ${p.project} -- python3 ${manage} sendtestemail --admins 2>&1); rc=$?; echo "rc=$rc"; printf '%s\\n' "$out"`,
          );
          const kv = new Map(
            sent.stdout
              .split('\n')
              .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
          );
          // The second sendtestemail started in: the journal's --since includes all of it.
          const since = Number(kv.get('since') ?? '0');
          const uid = kv.get('uid') ?? '';
          if (kv.get('rc') !== '0') {
            throw new TaskFailure(
              `manage.py sendtestemail --admins failed (exit ${kv.get('rc') ?? '?'})`,
              sent.stdout.split('\n').slice(3).join('\n').trim() || sent.stderr.trim() || undefined,
            );
          }
          const query = sh`journalctl ${p.mta === 'dma' ? 'SYSLOG_IDENTIFIER=dma' : 'SYSLOG_FACILITY=2'} --since=${`@${since}`} --no-pager -o json --output-fields=MESSAGE,SYSLOG_IDENTIFIER,SYSLOG_PID,_PID`;
          const deadline = Date.now() + timeout * 1000;
          for (;;) {
            const log = parseJournal((await shell.exec(query)).stdout);
            const d =
              p.mta === 'dma' ? judgeDmaForUser(log, p.project) : judgePostfixForUid(log, uid);
            if (d.state === 'delivered')
              return `sendtestemail --admins: ${d.ids.length} message${d.ids.length === 1 ? '' : 's'} accepted by the smarthost (${d.ids.join(', ')})`;
            if (d.state === 'failed')
              throw new TaskFailure(`Django's test mail did not reach the smarthost: ${d.line}`);
            if (Date.now() >= deadline) {
              throw new TaskFailure(
                `Django's test mail was not accepted by the smarthost within ${timeout}s; ${d.last ?? `${p.mta} logged nothing about it`}`,
              );
            }
            await new Promise((r) => setTimeout(r, 1000));
          }
        },
      },
    ],
  }),
});

/** `key value` lines of a postfix lookup table, as `postmap -s` prints them (tab-separated), sorted. */
export function postmapDump(content: string, aliases: boolean): string {
  const rows = content
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const m = aliases ? /^([^:\s]+):\s*(.*)$/.exec(l) : /^(\S+)\s+(.*)$/.exec(l);
      return m === null ? l : `${m[1] ?? ''}${aliases ? ':' : ''}\t${m[2] ?? ''}`;
    })
    .sort();
  return rows.map((r) => `${r}\n`).join('');
}

/**
 * A postfix lookup table and its hash database as one task: the source file (written like
 * copyFile, sensitive if asked) and `postmap` (or `postalias`), run whenever the database does not
 * hold exactly the desired entries. The database is compared by a hash of its dump taken on the
 * host, so check mode knows whether postmap would run, and no entry leaves the host.
 */
export const postfixMap = defineTask({
  type: 'postfixMap',
  params: Type.Object(
    {
      path: Type.String({ pattern: '^/[^\\0\\s]*$' }),
      /** An EJS template under templates/, rendered like templateFile's (host vars, then `vars`). */
      src: Type.String({ minLength: 1 }),
      vars: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      /** postalias for /etc/aliases (key: value), postmap for other tables (key value). */
      kind: Type.Union([Type.Literal('postmap'), Type.Literal('postalias')]),
      mode: Type.String({ pattern: '^[0-7]{4}$' }),
      sensitive: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  describe: (p) => p.path,
  prepare: async (p, host, ctx) => ({
    content: await renderTemplate(p.src, templateData(host, p.vars), ctx.templates),
  }),
  probe: (p, prepared) => ({
    ...wholeFileProbe({
      path: p.path,
      owner: 'root',
      group: 'root',
      sensitive: p.sensitive === true,
      content: prepared.content,
    }),
    db: fact.command(
      sh`command -v ${p.kind} >/dev/null 2>&1 || { echo ${`no-${p.kind}`}; exit 1; }; [ -e ${`${p.path}.db`} ] || { echo no-db; exit 1; }; ${p.kind} -s ${`hash:${p.path}`} | grep -v -e '^YP_' -e '^@:' | LC_ALL=C sort | sha256sum | cut -c1-64`,
    ),
  }),
  plan: (p, facts, prepared, ctx) => {
    const file = planWholeFile(ctx.host.name, facts, {
      path: p.path,
      content: prepared.content,
      mode: p.mode,
      owner: 'root',
      group: 'root',
      sensitive: p.sensitive === true,
    });
    if (file.status === 'fail' || file.status === 'unknown') return file;
    const db = facts.db;
    const want = sha256(postmapDump(prepared.content, p.kind === 'postalias'));
    if (file.status === 'ok' && db.code === 0 && db.stdout.trim() === want) return { status: 'ok' };
    const build: Step = {
      op: 'run',
      describe: `${p.kind} hash:${p.path}`,
      script: sh`${p.kind} ${`hash:${p.path}`}`,
    };
    const why =
      db.code !== 0
        ? db.stdout.trim().replace(/^no-/, 'no ')
        : 'the database differs from the table';
    const rebuild: Change = {
      summary: `${p.kind} ${p.path} (${file.status === 'change' ? 'table changes' : why})`,
      diff: [{ kind: 'item', sign: '~', text: `${p.kind} hash:${p.path}` }],
      steps: [build],
      // Undone by rebuilding from the table once the runner has restored it.
      undo: [
        {
          op: 'run',
          describe: `${p.kind} hash:${p.path} (restored table)`,
          script: sh`if [ -e ${p.path} ]; then ${p.kind} ${`hash:${p.path}`}; fi`,
        },
      ],
      effects: [],
    };
    if (file.status === 'ok') return { status: 'change', changes: [{ ...rebuild, undo: [] }] };
    // Undo runs in reverse: the rebuild's undo must come after the table is restored, so it is
    // recorded with the table's change (before the runner records the restore of its write).
    const [write, ...rest] = file.changes;
    if (write === undefined) return { status: 'change', changes: [rebuild] };
    return {
      status: 'change',
      changes: [
        { ...write, undo: [...rebuild.undo, ...write.undo] },
        ...rest,
        { ...rebuild, undo: [] },
      ],
    };
  },
});

/**
 * postfix reads main.cf and master.cf when it starts (or reloads). This task reloads it when they
 * differ from what it last loaded, recorded as their sha256 in a stamp file. The stamp is compared
 * with the files' facts, which check mode overlays with what earlier tasks would write, so a dry
 * run reports the reload a real run would do. (A handler would reload too late: the mail tasks
 * that prove the relay run before handlers.)
 */
/** What postfix last loaded: the sha256 of main.cf and master.cf when it was (re)started. */
const LOADED_STAMP = '/var/lib/fleetbook-postfix.loaded';

export const postfixReload = defineTask({
  type: 'postfixReload',
  params: Type.Object({}, { additionalProperties: false }),
  describe: () => 'postfix',
  probe: () => ({
    main: fact.file('/etc/postfix/main.cf'),
    master: fact.file('/etc/postfix/master.cf'),
    stamp: fact.file(LOADED_STAMP, 'content'),
    running: fact.service('postfix'),
  }),
  plan: (_p, facts) => {
    const want = `${facts.main.sha256 ?? '-'}  /etc/postfix/main.cf\n${facts.master.sha256 ?? '-'}  /etc/postfix/master.cf\n`;
    const have = facts.stamp.content?.toString('utf8') ?? '';
    if (have === want && facts.running.active === 'active') return { status: 'ok' };
    const why =
      facts.running.active !== 'active'
        ? `postfix is ${facts.running.active}`
        : 'its configuration changed';
    const restart: Step = {
      op: 'run',
      describe: 'postfix check; systemctl restart postfix',
      script: sh`postfix check && systemctl restart postfix && systemctl is-active --quiet postfix`,
    };
    return {
      status: 'change',
      changes: [
        {
          summary: `restart postfix (${why})`,
          diff: [{ kind: 'item', sign: '~', text: `restart postfix (${why})` }],
          // The stamp records what was on disk when postfix (re)started, as a file the runner
          // writes: a rollback puts the old stamp back with the old main.cf and master.cf.
          steps: [
            restart,
            {
              op: 'write',
              path: LOADED_STAMP,
              content: Buffer.from(want),
              mode: '0644',
              owner: 'root',
              group: 'root',
            },
          ],
          undo: [],
          // After a rollback postfix must run the configuration that is on disk again (if postfix
          // is still installed: a rollback may have removed it).
          afterUndo: [
            {
              op: 'run',
              describe: 'restart postfix (restored configuration)',
              script: sh`if systemctl cat postfix.service >/dev/null 2>&1; then systemctl restart postfix; fi`,
            },
          ],
          effects: [
            { kind: 'service', fact: { name: 'postfix', exists: true, active: 'active' } },
            {
              kind: 'file',
              fact: {
                ...facts.stamp,
                exists: true,
                type: 'file',
                mode: '0644',
                owner: 'root',
                group: 'root',
                size: want.length,
                sha256: sha256(want),
                content: Buffer.from(want),
              },
            },
          ],
        },
      ],
    };
  },
});

// ---------------------------------------------------------------------------------------------
// The playbook

const PY_COMPILES = `python3 -c "import sys; compile(open(sys.argv[1], encoding='utf-8').read(), sys.argv[1], 'exec')" %s`;

export default definePlaybook({
  name: 'django-production',
  hosts: 'django',
  varsSchema: DjangoVars,
  vars: {
    project: 'fbdemo',
    mta: 'dma',
    timeZone: 'UTC',
    languageCode: 'en-us',
    workers: 2,
    hstsSeconds: 31536000,
    mailTimeoutSeconds: 60,
  },
  secrets: {
    django_secret_key: { generate: { length: 64 } },
    smarthost_password: {
      operator: {
        description: 'password of the smarthost account (smarthost.user in the inventory)',
      },
    },
  },
  tasks: (host): TaskEntry[] => {
    const v: DjangoVars = host.vars;
    const P = v.project;
    const allowedHosts = v.allowedHosts ?? [v.domain];
    const firstAdmin = v.admins[0]?.email ?? `root@${v.domain}`;
    const tree = projectTree(P);
    const restart = { notify: [`restart ${P}`] };
    const mta = { tags: ['mta'] };

    const dma: TaskEntry[] = [
      aptInstall(
        {
          packages: ['dma'],
          // The package's only questions; answered as the files below say, so neither an install
          // nor a later dpkg-reconfigure prompts or rewrites /etc/mailname and SMARTHOST.
          preseed: [
            { package: 'dma', question: 'dma/mailname', type: 'string', value: v.domain },
            { package: 'dma', question: 'dma/relayhost', type: 'string', value: v.smarthost.host },
          ],
        },
        mta,
      ),
      // The package makes /etc/dma; saying so lets check mode on a fresh host plan the files below.
      ensureDir({ path: '/etc/dma' }, mta),
      templateFile(
        {
          src: 'django/dma.conf.ejs',
          dest: '/etc/dma/dma.conf',
          owner: 'root',
          group: 'mail',
          mode: '0640',
        },
        mta,
      ),
      // dma is setgid mail: root:mail 0640 lets it read the password for every user (0600 would
      // break mail from the app and from cron). One line, no trailing CR: dma takes it literally.
      templateFile(
        {
          src: 'django/auth.conf.ejs',
          dest: '/etc/dma/auth.conf',
          owner: 'root',
          group: 'mail',
          mode: '0640',
          sensitive: true,
          vars: { password: host.secrets.smarthost_password },
        },
        mta,
      ),
      templateFile({ src: 'django/aliases.ejs', dest: '/etc/aliases' }, mta),
      // After a switch from postfix, its copy of the password would stay behind (apt keeps the
      // config files of a removed package).
      command(
        {
          run: 'rm -f /etc/postfix/sasl_passwd /etc/postfix/sasl_passwd.db',
          unless: '[ ! -e /etc/postfix/sasl_passwd ] && [ ! -e /etc/postfix/sasl_passwd.db ]',
          describe: "remove postfix's copy of the smarthost password",
        },
        mta,
      ),
    ];

    const postfix: TaskEntry[] = [
      aptInstall(
        {
          packages: ['postfix', 'libsasl2-modules'],
          preseed: [
            {
              package: 'postfix',
              question: 'postfix/main_mailer_type',
              type: 'select',
              value: 'Satellite system',
            },
            { package: 'postfix', question: 'postfix/mailname', type: 'string', value: v.domain },
            {
              package: 'postfix',
              question: 'postfix/relayhost',
              type: 'string',
              value: `[${v.smarthost.host}]:${v.smarthost.port}`,
            },
          ],
        },
        mta,
      ),
      ensureDir({ path: '/etc/postfix' }, mta),
      templateFile(
        {
          src: 'django/postfix-main.cf.ejs',
          dest: '/etc/postfix/main.cf',
          validate: 'postconf -c "$(dirname %s)" -n >/dev/null',
        },
        mta,
      ),
      // A satellite needs no SMTP listener (local mail enters through sendmail/pickup), and on hosts
      // sharing a network namespace (the lab) several smtpd on 127.0.0.1:25 would collide.
      command(
        {
          run: 'postconf -M# smtp/inet',
          unless: 'command -v postconf >/dev/null && [ -z "$(postconf -M smtp/inet 2>/dev/null)" ]',
          describe: 'disable the smtpd listener in master.cf (postconf -M# smtp/inet)',
        },
        mta,
      ),
      postfixMap(
        {
          path: '/etc/postfix/sasl_passwd',
          kind: 'postmap',
          mode: '0600',
          sensitive: true,
          src: 'django/sasl_passwd.ejs',
          vars: { password: host.secrets.smarthost_password },
        },
        mta,
      ),
      postfixMap(
        { path: '/etc/aliases', kind: 'postalias', mode: '0644', src: 'django/aliases.ejs' },
        mta,
      ),
      postfixReload({}, mta),
      // After a switch from dma (see the dma tasks).
      command(
        {
          run: 'rm -f /etc/dma/auth.conf',
          unless: '[ ! -e /etc/dma/auth.conf ]',
          describe: "remove dma's copy of the smarthost password",
        },
        mta,
      ),
    ];

    return [
      aptInstall({ packages: ['python3-django', 'gunicorn', 'cron'] }),
      ...(v.mta === 'dma' ? dma : postfix),
      templateFile({ src: 'django/mailname.ejs', dest: '/etc/mailname' }, mta),

      ensureUser({ name: P, home: `/var/opt/${P}` }),
      ensureDir({ path: `/var/opt/${P}`, owner: P, group: P, mode: '0750' }),
      ensureDir({ path: `/var/log/${P}`, owner: P, group: P, mode: '0750' }),
      ensureDir({ path: `/var/cache/${P}`, owner: P, group: P, mode: '0750' }),
      ensureDir({ path: `/var/cache/${P}/cache`, owner: P, group: P, mode: '0750' }),
      ensureDir({ path: `/etc/opt/${P}`, owner: 'root', group: P, mode: '0750' }),

      // The code: root-owned, world-readable (nothing secret in it), the same on every host.
      ensureDir({ path: `/opt/${P}` }),
      ...tree.dirs.map((d) => ensureDir({ path: `/opt/${P}/${d}` })),
      ...tree.files.map((f) =>
        copyFile(
          {
            src: path.join(HERE, 'files', P, f),
            dest: `/opt/${P}/${f}`,
            mode: f === 'manage.py' ? '0755' : '0644',
          },
          restart,
        ),
      ),

      templateFile(
        {
          src: 'django/settings.py.ejs',
          dest: `/etc/opt/${P}/settings.py`,
          owner: 'root',
          group: P,
          mode: '0640',
          sensitive: true,
          validate: PY_COMPILES,
          vars: { allowedHosts, secretKey: host.secrets.django_secret_key },
        },
        restart,
      ),
      templateFile(
        { src: 'django/gunicorn.service.ejs', dest: `/etc/systemd/system/${P}.service` },
        restart,
      ),
      templateFile({
        src: 'django/restart.sh.ejs',
        dest: `/usr/local/sbin/restart-${P}`,
        mode: '0755',
      }),
      cronDaily({ name: `${P}-clearsessions`, src: 'django/clearsessions.ejs' }),

      djangoMigrate({ project: P }),
      ensureService({ name: `${P}.service`, state: 'started', enabled: true }),

      verifyMail(
        {
          to: firstAdmin,
          from: `noreply@${v.domain}`,
          mta: v.mta,
          timeoutSeconds: v.mailTimeoutSeconds,
        },
        { tags: ['mail'] },
      ),
      djangoSendTestEmail(
        { project: P, mta: v.mta, timeoutSeconds: v.mailTimeoutSeconds },
        { tags: ['mail'] },
      ),
    ];
  },
  handlers: (host) => {
    const v: DjangoVars = host.vars;
    const allowedHosts = v.allowedHosts ?? [v.domain];
    const httpHost = allowedHosts.find((h) => h !== '*' && !h.startsWith('.')) ?? v.domain;
    return [restartApp({ project: v.project, httpHost }, { name: `restart ${v.project}` })];
  },
});
