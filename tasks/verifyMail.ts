import { randomBytes } from 'node:crypto';
import {
  defineTask,
  joinScripts,
  sh,
  Type,
  TaskFailure,
  type RemoteShell,
  type Script,
  type VerifyAction,
  type Static,
} from 'fleetbook';
import {
  formatEntry,
  judgeDma,
  judgePostfix,
  parseDmaQueue,
  parseJournalJson,
  parsePostfixQueue,
  type LogEntry,
  type MailVerdict,
} from './mail-log.ts';

// An address as sendmail takes it on its command line and in a header: no spaces, brackets, quotes,
// commas or line breaks (so nothing can be injected into the headers or the command).
const Email = Type.String({
  // (?!-): never mistaken for an option, wherever it ends up on a command line.
  pattern: '^(?!-)[^\\s@<>()\\[\\]",;:\\\\]+@[A-Za-z0-9.-]+$',
  maxLength: 254,
  description: 'an email address',
});

const Params = Type.Object(
  {
    to: Email,
    from: Type.Optional({
      ...Email,
      doc: 'Envelope sender and From: header. Default: what the MTA makes of root (dma: root@MAILNAME or its MASQUERADE).',
    }),
    subject: Type.Optional(
      Type.String({
        pattern: '^[^\\r\\n]*$',
        maxLength: 200,
        description: 'one line',
        default: 'fleetbook verifyMail',
        doc: 'Subject prefix; a unique token is appended.',
      }),
    ),
    timeoutSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 3600,
        default: 60,
        doc: 'How long to wait for the smarthost to accept the message.',
      }),
    ),
    mta: Type.Optional(
      Type.Union([Type.Literal('auto'), Type.Literal('dma'), Type.Literal('postfix')], {
        default: 'auto',
        doc: 'Whose log to read; auto finds the installed one.',
      }),
    ),
  },
  {
    additionalProperties: false,
    doc: "Send a message with a unique token through `sendmail` and wait until the MTA's log shows the smarthost accepted it (a side effect, recorded in the journal; it cannot be undone).",
  },
);

export type VerifyMailParams = Static<typeof Params>;

const SENDMAIL = '/usr/sbin/sendmail';

/** Sends a test message through the host's sendmail and waits until the MTA's log shows the smarthost took it. */
export const verifyMail = defineTask({
  type: 'verifyMail',
  params: Params,
  describe: (p) => p.to,
  probe: () => ({}),
  plan: (p, _facts, _prepared, ctx) => ({
    status: 'ok',
    note: `would send a test message to ${p.to} through ${SENDMAIL} and wait for the smarthost to accept it`,
    verify: [mailCheck(p, ctx.host.name)],
  }),
});

export interface MailCheckOptions {
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly token?: string;
  readonly pollIntervalMs?: number;
}

export type Mta = 'dma' | 'postfix';

/** What the first round trip learns about the host. */
export interface MailHost {
  readonly mta: Mta | 'none' | 'other';
  /** Where /usr/sbin/sendmail really points. */
  readonly sendmail: string;
  readonly mailname: string;
  /** The host's clock, seconds since the epoch (journalctl --since must use the host's clock). */
  readonly now: number;
  readonly journal: boolean;
}

export function detectScript(): Script {
  return joinScripts([
    sh`sm=${SENDMAIL}`,
    sh`if [ -e "$sm" ]; then real=$(readlink -f "$sm"); echo "sendmail=$real"`,
    // dma's sendmail is a link to dma; postfix ships its own sendmail binary beside postqueue.
    sh`case "$real" in */dma) echo mta=dma ;; *) if [ -x /usr/sbin/postqueue ] && [ -x /usr/sbin/postconf ]; then echo mta=postfix; else echo mta=other; fi ;; esac`,
    sh`else echo mta=none; fi`,
    sh`echo "mailname=$(head -n 1 /etc/mailname 2>/dev/null || hostname -f 2>/dev/null || hostname)"`,
    sh`echo "now=$(date +%s)"`,
    sh`if command -v journalctl >/dev/null 2>&1; then echo journal=yes; else echo journal=no; fi`,
  ]);
}

function keyValues(stdout: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) map.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return map;
}

export function parseDetect(stdout: string): MailHost {
  const kv = keyValues(stdout);
  const mta = kv.get('mta');
  return {
    mta: mta === 'dma' || mta === 'postfix' || mta === 'none' ? mta : 'other',
    sendmail: kv.get('sendmail') ?? SENDMAIL,
    mailname: (kv.get('mailname') ?? '').replace(/[^A-Za-z0-9.-]/g, '') || 'localhost',
    now: Number(kv.get('now') ?? '0'),
    journal: kv.get('journal') === 'yes',
  };
}

/** RFC 5322 date in UTC: "Tue, 02 Jan 2024 15:04:05 +0000". */
export function rfc5322Date(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

export interface TestMessage {
  readonly token: string;
  readonly messageId: string;
  readonly subject: string;
  readonly text: string;
}

export function composeMessage(
  p: VerifyMailParams,
  host: string,
  mailname: string,
  token: string,
  date: Date,
): TestMessage {
  const messageId = `fleetbook-verifymail.${token}@${mailname}`;
  const subject = `${p.subject ?? 'fleetbook verifyMail'} ${token}`;
  const headers = [
    ...(p.from !== undefined ? [`From: <${p.from}>`] : []),
    `To: <${p.to}>`,
    `Subject: ${subject}`,
    `Message-ID: <${messageId}>`,
    `Date: ${rfc5322Date(date)}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Auto-Submitted: auto-generated',
  ];
  const body = [
    `This is a test message from fleetbook verifyMail on ${host}.`,
    'It checks that mail from this host reaches its smarthost; no reply is needed.',
    '',
    `token: ${token}`,
  ];
  return { token, messageId, subject, text: `${headers.join('\n')}\n\n${body.join('\n')}\n` };
}

/**
 * Run sendmail so we learn its PID: `sh -c 'echo pid=$$; exec sendmail'` keeps the PID across exec,
 * and that PID is the _PID journald records for dma's "new mail from" line (logged before dma
 * forks to deliver). This is how a dma queue id is tied to our message (see mail-log.ts).
 */
export function sendScript(p: VerifyMailParams): Script {
  const args = [SENDMAIL, '-i', ...(p.from !== undefined ? ['-f', p.from] : []), '--', p.to];
  return sh`sh -c 'echo "pid=$$"; exec "$@"' fleetbook-sendmail ${args} 2>&1; echo "rc=$?"`;
}

export function parseSend(stdout: string): { pid: number | null; rc: number; output: string } {
  const lines = stdout.replace(/\n$/, '').split('\n');
  const pidLine = lines.findIndex((l) => /^pid=\d+$/.test(l));
  const rcLine = lines.length - 1;
  const rcMatch = /^rc=(\d+)$/.exec(lines[rcLine] ?? '');
  const output = lines.slice(pidLine + 1, rcMatch !== null ? rcLine : undefined).join('\n');
  return {
    pid: pidLine >= 0 ? Number((lines[pidLine] ?? '').slice(4)) : null,
    rc: rcMatch?.[1] !== undefined ? Number(rcMatch[1]) : 255,
    output,
  };
}

export function journalScript(mta: Mta, since: number): Script {
  // dma logs as SYSLOG_IDENTIFIER=dma; postfix as postfix/<daemon>, all on the mail facility.
  const match = mta === 'dma' ? 'SYSLOG_IDENTIFIER=dma' : 'SYSLOG_FACILITY=2';
  return sh`journalctl ${match} --since=${`@${since}`} --no-pager -o json --output-fields=MESSAGE,SYSLOG_IDENTIFIER,SYSLOG_PID,_PID`;
}

export function queueScript(mta: Mta): Script {
  return mta === 'dma' ? sh`dma -bp 2>&1` : sh`postqueue -p 2>&1`;
}

/** Remove our own test message from the queue (after a failure). */
export function dropScript(mta: Mta, queueId: string): Script {
  if (mta === 'postfix') return sh`postsuper -d ${queueId} 2>&1`;
  // dma: the Q (envelope) and M (message) spool files of every item of our message; a delivery
  // process sleeping on it finds its queue file gone when it wakes ("lost queue file") and exits.
  const base = queueId.split('.')[0] ?? queueId;
  return sh`d=$(sed -n 's/^SPOOLDIR[[:space:]][[:space:]]*//p' /etc/dma/dma.conf 2>/dev/null | tail -n 1); rm -f -- "\${d:-/var/spool/dma}"/Q${base}.* "\${d:-/var/spool/dma}"/M${base}.*`;
}

export function judge(
  mta: Mta,
  entries: readonly LogEntry[],
  senderPid: number,
  messageId: string,
): MailVerdict {
  return mta === 'dma' ? judgeDma(entries, senderPid) : judgePostfix(entries, messageId);
}

const KIND_TEXT = {
  auth: 'the smarthost refused the login (authentication failed)',
  tls: 'TLS with the smarthost failed',
  rejected: 'the message was rejected',
  bounced: 'the message bounced',
  local: 'it was delivered on this host, not handed to the smarthost',
} as const;

function linesAbout(
  mta: Mta,
  entries: readonly LogEntry[],
  verdict: MailVerdict,
  senderPid: number,
): string {
  const base = verdict.queueId?.split('.')[0];
  const about = entries.filter((e) =>
    mta === 'dma'
      ? e.pid === senderPid ||
        (base !== undefined && (e.tag === base || e.tag.startsWith(`${base}.`)))
      : verdict.queueId !== undefined && e.message.startsWith(`${verdict.queueId}: `),
  );
  return about.map(formatEntry).join('\n');
}

export function mailCheck(
  p: VerifyMailParams,
  hostName: string,
  opts: MailCheckOptions = {},
): VerifyAction {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const interval = opts.pollIntervalMs ?? 1000;
  const timeout = (p.timeoutSeconds ?? 60) * 1000;
  const want = p.mta ?? 'auto';
  return {
    describe: `check that mail to ${p.to} reaches the smarthost`,
    sideEffect: `sends a test message to ${p.to} (removed from the queue again if it is not delivered)`,
    async run(shell: RemoteShell) {
      const detected = await shell.exec(detectScript());
      const host = parseDetect(detected.stdout);
      if (host.mta === 'none')
        throw new TaskFailure(`${SENDMAIL} does not exist: no MTA is installed`);
      if (host.mta === 'other')
        throw new TaskFailure(
          `${SENDMAIL} is ${host.sendmail}, neither dma nor postfix; verifyMail cannot read its log`,
        );
      if (want !== 'auto' && host.mta !== want)
        throw new TaskFailure(`expected ${want} but ${SENDMAIL} is ${host.mta} (${host.sendmail})`);
      if (!host.journal)
        throw new TaskFailure(
          `journalctl is not available; verifyMail reads ${host.mta}'s log from the journal`,
        );
      const mta: Mta = host.mta;

      const token = opts.token ?? randomBytes(12).toString('hex');
      const msg = composeMessage(p, hostName, host.mailname, token, new Date(now()));
      // journald timestamps are the host's; one second back covers a clock tick between the two round trips.
      const since = host.now - 1;
      const started = now();
      const sent = parseSend((await shell.exec(sendScript(p), { stdin: msg.text })).stdout);
      if (sent.pid === null)
        throw new TaskFailure(`could not run ${SENDMAIL}`, sent.output || undefined);
      const senderPid = sent.pid;
      if (sent.rc !== 0) {
        const log = parseJournalJson((await shell.exec(journalScript(mta, since))).stdout).filter(
          (e) => e.pid === senderPid,
        );
        const details = [sent.output, ...log.map(formatEntry)].filter((s) => s !== '').join('\n');
        throw new TaskFailure(
          `${SENDMAIL} exited with status ${sent.rc}; the test message was not queued`,
          details || undefined,
        );
      }

      const deadline = started + timeout;
      let entries: LogEntry[];
      let verdict: MailVerdict;
      for (;;) {
        const res = await shell.exec(journalScript(mta, since));
        if (res.code !== 0) {
          throw new TaskFailure(
            `cannot read the journal (journalctl exited with ${res.code})`,
            res.stderr.trim() || undefined,
          );
        }
        entries = parseJournalJson(res.stdout);
        verdict = judge(mta, entries, senderPid, msg.messageId);
        if (verdict.state === 'delivered' || verdict.state === 'failed') break;
        if (now() >= deadline) break;
        await sleep(Math.min(interval, Math.max(0, deadline - now())));
      }
      const details = linesAbout(mta, entries, verdict, senderPid) || undefined;
      if (verdict.state !== 'delivered' && verdict.queueId !== undefined) {
        // A test message left queued would be retried for days (dma keeps a process sleeping on it,
        // with the configuration it started with) and would fail the next verifyMail's empty-queue
        // check; it is ours, so it goes.
        await shell.exec(dropScript(mta, verdict.queueId));
      }
      if (verdict.state === 'failed') {
        throw new TaskFailure(
          `mail to ${p.to} failed: ${KIND_TEXT[verdict.kind]} (queue id ${verdict.queueId}): ${formatEntry(verdict.last)}`,
          details,
        );
      }
      if (verdict.state !== 'delivered') {
        const seen =
          verdict.state === 'queued'
            ? `last seen for it (queue id ${verdict.queueId}): ${formatEntry(verdict.last)}` +
              (mta === 'dma' && /deferred|failed/.test(verdict.last.message)
                ? ' (dma retries it at the next queue flush; Debian runs `dma -q` every 5 minutes)'
                : '')
            : verdict.last !== undefined
              ? `${host.mta} logged only: ${formatEntry(verdict.last)}`
              : mta === 'dma'
                ? `dma logged nothing for sendmail process ${senderPid}`
                : `postfix logged nothing for Message-ID <${msg.messageId}>`;
        throw new TaskFailure(
          `mail to ${p.to} was not accepted by the smarthost within ${p.timeoutSeconds ?? 60}s; ${seen}`,
          details,
        );
      }
      const took = ((verdict.last.time - verdict.queuedAt) / 1000).toFixed(1);

      await checkQueueEmpty(shell, mta, verdict.queueId, now, sleep, interval);
      const relay = verdict.relay ?? 'the smarthost';
      return `delivered to smarthost ${relay} (queue id ${verdict.queueId}) in ${took}s`;
    },
  };
}

/**
 * After delivery the queue must be empty: our message must be gone, and anything else still
 * there is mail this host failed to send (often from before its relay worked). A message that is
 * being delivered right now may be listed for a moment, so this waits a little for it to leave.
 */
async function checkQueueEmpty(
  shell: RemoteShell,
  mta: Mta,
  queueId: string,
  now: () => number,
  sleep: (ms: number) => Promise<void>,
  interval: number,
): Promise<void> {
  const graceEnd = now() + 5000;
  for (;;) {
    const res = await shell.exec(queueScript(mta));
    const ids = mta === 'dma' ? parseDmaQueue(res.stdout) : parsePostfixQueue(res.stdout);
    const listed = res.code === 0 && (ids.length > 0 || /queue is empty/i.test(res.stdout));
    if (!listed) {
      throw new TaskFailure(
        `cannot list the ${mta} queue (${queueScript(mta).text} exited with ${res.code})`,
        res.stdout.trim() || undefined,
      );
    }
    if (ids.length === 0) return;
    if (now() >= graceEnd) {
      const ours = ids.filter((id) => id === queueId || id.startsWith(`${queueId}.`));
      const message =
        ours.length > 0
          ? `the test message was delivered but is still in the ${mta} queue (${ours.join(', ')})`
          : `the test message was delivered, but the ${mta} queue still holds ${ids.length} other message${ids.length === 1 ? '' : 's'} (${ids.join(', ')}) that this host could not send`;
      throw new TaskFailure(message, res.stdout.trim());
    }
    await sleep(Math.min(interval, Math.max(0, graceEnd - now())));
  }
}
