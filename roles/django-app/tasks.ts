/**
 * The Django tasks of the django-app role: restartApp (the restart handler, which proves the app
 * answers afterwards), djangoMigrate (migrate when the code or Django changed, told by a stamp
 * rather than by starting Python) and djangoSendTestEmail (Django's own mail path, followed to
 * the smarthost in the MTA's log with the judging verifyMail uses).
 */
import { defineTask, fact, sh, sha256, TaskFailure, Type, undoGuards } from 'fleetbook';
import type { Change, RemoteShell, Step, VerifyAction } from 'fleetbook';
import {
  formatEntry,
  judgeDmaFromUser,
  judgePostfixFromUid,
  parseJournalJson,
} from 'fleetbook/tasks';
import { Hostname } from '../mail-vars.ts';
import { codeHash } from './code.ts';

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
    const code = `/opt/${p.project}`;
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
      // A restart cannot be undone. What its compileall wrote can: the bytecode goes (before the
      // runner restores the code it was compiled from), and the replay after the undo compiles
      // the restored code again, unless the rollback removed the app.
      undo: [
        {
          op: 'run',
          describe: `remove the bytecode compiled under ${code}`,
          script: sh`[ ! -d ${code} ] || find ${code} -depth -type d -name __pycache__ -exec rm -rf -- {} +`,
          removes: sh`[ ! -d ${code} ] || find ${code} -type d -name __pycache__`,
        },
      ],
      afterUndo: [
        {
          ...restart,
          onlyIf: sh`${undoGuards.present(script)}${undoGuards.unitPresent(`${p.project}.service`)}`,
        },
      ],
      effects: [
        { kind: 'service', fact: { name: `${p.project}.service`, exists: true, active: 'active' } },
      ],
    };
    return { status: 'change', changes: [change], verify: [answersCheck(p)] };
  },
});

/**
 * `manage.py migrate` when the code or Django changed since the last migrate on this host (or
 * there is no database yet). A stamp next to the database records the Django version and the
 * code's hash it was migrated with, so the no-change run reads one file's hash instead of starting
 * Python and Django (`migrate --check` costs ~0.2 s of CPU per host). A database restored from an
 * older backup is not noticed: remove the stamp after restoring one.
 */
export const djangoMigrate = defineTask({
  type: 'djangoMigrate',
  params: Type.Object(
    {
      project: ProjectName,
      /** The code's directory on the controller (what the run deploys to /opt/PROJECT). */
      code: Type.String({ minLength: 1 }),
    },
    { additionalProperties: false },
  ),
  describe: (p) => `manage.py migrate (as ${p.project})`,
  prepare: (p) => Promise.resolve({ code: codeHash(p.code, p.project) }),
  probe: (p) => ({
    django: fact.packages(['python3-django']),
    db: fact.file(dbPath(p.project)),
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
          summary: facts.db.exists
            ? `run manage.py migrate as ${P} (${why}; a migration cannot be undone)`
            : `run manage.py migrate as ${P} (${why}; undo keeps the new database in the run's backups)`,
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
          // A database this run created is taken away by the undo, but kept, not deleted: by then
          // the app may have written to it. One that existed is left as the migration made it.
          undo: facts.db.exists ? [] : [{ op: 'remove', path: dbPath(P) }],
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

function dbPath(project: string): string {
  return `/var/opt/${project}/db.sqlite3`;
}

function migrateStamp(project: string): string {
  return `/var/opt/${project}/.fleetbook-migrated`;
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
            const log = parseJournalJson((await shell.exec(query)).stdout);
            const d =
              p.mta === 'dma'
                ? judgeDmaFromUser(log, p.project)
                : judgePostfixFromUid(log, Number(uid));
            if (d.state === 'delivered')
              return `sendtestemail --admins: ${d.ids.length} message${d.ids.length === 1 ? '' : 's'} accepted by the smarthost (${d.ids.join(', ')})`;
            if (d.state === 'failed')
              throw new TaskFailure(
                `Django's test mail did not reach the smarthost (${d.kind}): ${formatEntry(d.last)}`,
              );
            if (Date.now() >= deadline) {
              throw new TaskFailure(
                `Django's test mail was not accepted by the smarthost within ${timeout}s; ${d.last !== undefined ? formatEntry(d.last) : `${p.mta} logged nothing about it`}`,
              );
            }
            await new Promise((r) => setTimeout(r, 1000));
          }
        },
      },
    ],
  }),
});
