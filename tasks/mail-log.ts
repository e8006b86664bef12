/**
 * Reading what an MTA logged about one message, from `journalctl -o json` lines. Pure: the
 * verifyMail task fetches the journal, these functions decide what it says.
 *
 * dma (Debian 0.13) logs through syslog(3) with the identifier "dma[QUEUEID]" and no PID, so
 * journald stores SYSLOG_IDENTIFIER=dma and SYSLOG_PID=QUEUEID, and _PID is the real process
 * (trusted: journald takes it from the socket credentials). `journalctl -o short` prints _PID in
 * the brackets, not the queue id; only `-o json`/`-o verbose` show the queue id. As seen on a lab
 * host (SYSLOG_PID, _PID, MESSAGE):
 *   16e002              581  new mail from user=root uid=8 envelope_from=<root@lab3>
 *   16e002              581  mail to=<ops@example.org> queued as 16e002.5604f32e1be0
 *   16e002.5604f32e1be0 582  <ops@example.org> trying delivery
 *   16e002.5604f32e1be0 582  using smarthost (127.0.0.1:587)
 *   ...                      (TLS, EHLO, "using SMTP authentication for user fleetbook")
 *   16e002.5604f32e1be0 582  <ops@example.org> delivery successful
 * The process that read the message (581) logs the first two lines, then forks the delivery
 * process (582), which logs under the item id "QUEUEID.ITEM".
 *
 * dma logs neither the Message-ID nor the subject, and the envelope sender it logs is the same
 * for every message root sends, so what ties a message we sent to its queue id is _PID: the "new
 * mail from" line is logged by the very sendmail process we started (before it forks), and we
 * know that process's PID. A PID is not reused while its process lives, and we only read lines
 * logged since just before we started it.
 *
 * postfix logs `QUEUEID: message-id=<...>` (cleanup), then `QUEUEID: to=<...>, relay=...,
 * status=sent (...)` (smtp) for the same queue id; our Message-ID carries the token.
 */

export interface LogEntry {
  /** Milliseconds since the epoch. */
  readonly time: number;
  /** SYSLOG_IDENTIFIER: "dma", "postfix/smtp", ... */
  readonly ident: string;
  /** SYSLOG_PID as logged: for dma the queue id, for postfix the PID. */
  readonly tag: string;
  /** _PID: the process that logged the line. */
  readonly pid: number | null;
  readonly message: string;
}

function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  // journald gives non-UTF-8 fields as byte arrays.
  if (Array.isArray(v) && v.every((b): b is number => typeof b === 'number'))
    return Buffer.from(v).toString('utf8');
  return null;
}

/** Parse `journalctl -o json` output (one object per line); lines that are not JSON are skipped. */
export function parseJournalJson(stdout: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const message = str(obj.MESSAGE);
    if (message === null) continue;
    const pid = str(obj._PID);
    const micros = str(obj.__REALTIME_TIMESTAMP);
    out.push({
      time: micros !== null && /^\d+$/.test(micros) ? Math.floor(Number(micros) / 1000) : 0,
      ident: str(obj.SYSLOG_IDENTIFIER) ?? '',
      tag: str(obj.SYSLOG_PID) ?? '',
      pid: pid !== null && /^\d+$/.test(pid) ? Number(pid) : null,
      message: message.trimEnd(),
    });
  }
  return out;
}

/** A log line with the tag its MTA gave it (dma: `dma[QUEUEID]`), for quoting in a failure. */
export function formatEntry(e: LogEntry): string {
  return `${e.ident}${e.tag !== '' ? `[${e.tag}]` : ''}: ${e.message}`;
}

export type FailureKind = 'auth' | 'tls' | 'rejected' | 'bounced' | 'local';

export type MailVerdict =
  /** Nothing in the log ties to our message yet. */
  | { readonly state: 'unseen'; readonly queueId?: undefined; readonly last?: LogEntry }
  /** Queued, not (yet) delivered; `last` is the latest line about it. */
  | { readonly state: 'queued'; readonly queueId: string; readonly last: LogEntry }
  | {
      readonly state: 'delivered';
      readonly queueId: string;
      /** The queue ids the smarthost accepted, one per SMTP transaction (dma: per recipient). */
      readonly ids: readonly string[];
      readonly relay: string | null;
      readonly last: LogEntry;
      /** When the MTA took the message in (ms). */
      readonly queuedAt: number;
    }
  | {
      readonly state: 'failed';
      readonly queueId: string;
      readonly kind: FailureKind;
      readonly last: LogEntry;
    };

const TLS_WORDS = /\b(SSL|TLS|STARTTLS)\b|certificate|fingerprint/i;
const BAD_WORDS =
  /deferred|failed|fail\b|not available|cannot|can not|do not match|did not provide|error/i;

/** Classify one dma line about a queue item; null when it is neither success nor a failure we act on. */
export function classifyDmaLine(message: string): FailureKind | 'deferred' | null {
  if (
    /authentication failed|AUTH login failed|SMTP login failed|AUTH login not available|non-encrypted SMTP login is disabled|smarthost authentication/i.test(
      message,
    )
  ) {
    return 'auth';
  }
  if (TLS_WORDS.test(message) && BAD_WORDS.test(message)) return 'tls';
  if (/^delivery failed, bouncing as /.test(message)) return 'bounced';
  if (/^remote delivery failed|did not like our|^Could not perform server greeting/i.test(message))
    return 'rejected';
  if (/deferred|failed|failure/i.test(message)) return 'deferred';
  return null;
}

/**
 * What the journal says about the message that sendmail process `senderPid` queued.
 * Only lines from `since` on should be passed in (the caller asks journalctl for them).
 */
export function judgeDma(entries: readonly LogEntry[], senderPid: number): MailVerdict {
  return judgeDmaIntake(
    entries,
    (e) => e.pid === senderPid && e.message.startsWith('new mail from '),
    (e) => e.pid === senderPid,
  );
}

/**
 * What the journal says about the first message the account `user` handed to dma (an app that
 * runs sendmail itself, so its PID is not known), from the lines logged since just before.
 */
export function judgeDmaFromUser(entries: readonly LogEntry[], user: string): MailVerdict {
  return judgeDmaIntake(entries, (e) => e.message.startsWith(`new mail from user=${user} `));
}

function judgeDmaIntake(
  entries: readonly LogEntry[],
  isIntake: (e: LogEntry) => boolean,
  isSender: (e: LogEntry) => boolean = () => false,
): MailVerdict {
  const dma = entries.filter((e) => e.ident === 'dma');
  const at = dma.findIndex(isIntake);
  const intake = dma[at];
  if (intake === undefined) {
    const own = dma.filter(isSender);
    const last = own[own.length - 1];
    return last === undefined ? { state: 'unseen' } : { state: 'unseen', last };
  }
  const base = intake.tag;
  // dma's ids come from the spool file's inode: an earlier message may have had this one's id
  const mine = dma.slice(at).filter((e) => e.tag === base || e.tag.startsWith(`${base}.`));
  const items = new Map<string, string>(); // item id -> recipient
  for (const e of mine) {
    const m = /^mail to=<(.*)> queued as (\S+)$/.exec(e.message);
    if (m?.[1] !== undefined && m[2] !== undefined) items.set(m[2], m[1]);
  }
  const last = mine[mine.length - 1] ?? intake;
  if (items.size === 0) return { state: 'queued', queueId: base, last };

  // A failure of any item fails the message: report the most telling line (auth/TLS before the bounce it causes).
  const failures = mine
    .map((e) => ({ e, kind: e.tag === base ? null : classifyDmaLine(e.message) }))
    .filter(
      (f): f is { e: LogEntry; kind: FailureKind } => f.kind !== null && f.kind !== 'deferred',
    );
  const rank: Record<FailureKind, number> = { auth: 0, tls: 1, rejected: 2, bounced: 3, local: 4 };
  const worst = [...failures].sort((a, b) => rank[a.kind] - rank[b.kind])[0];
  if (worst !== undefined) {
    const queueId = items.has(worst.e.tag) ? worst.e.tag : base;
    return { state: 'failed', queueId, kind: worst.kind, last: worst.e };
  }

  let relay: string | null = null;
  const delivered: string[] = [];
  let lastDelivered: LogEntry | undefined;
  for (const [id, addr] of items) {
    const lines = mine.filter((e) => e.tag === id);
    const smarthost = lines.find((e) => /^using smarthost \(/.test(e.message));
    const hostMatch =
      smarthost !== undefined ? /^using smarthost \((.*)\)$/.exec(smarthost.message) : null;
    if (hostMatch?.[1] !== undefined) relay = hostMatch[1];
    const ok = lines.find((e) => e.message === `<${addr}> delivery successful`);
    // STACK.md: success is "delivery successful" on the same queue id as "using smarthost"; a
    // local delivery (no smarthost line) did not leave the host and is not what we verify.
    if (ok !== undefined && smarthost !== undefined) {
      delivered.push(id);
      lastDelivered = ok;
    }
  }
  if (delivered.length === items.size && lastDelivered !== undefined) {
    return {
      state: 'delivered',
      queueId: items.size === 1 ? ([...items.keys()][0] ?? base) : base,
      ids: delivered,
      relay,
      last: lastDelivered,
      queuedAt: intake.time,
    };
  }
  const localOnly = mine.find(
    (e) =>
      /delivery successful$/.test(e.message) &&
      !mine.some((s) => s.tag === e.tag && s.message.startsWith('using smarthost')),
  );
  if (localOnly !== undefined) {
    return { state: 'failed', queueId: localOnly.tag, kind: 'local', last: localOnly };
  }
  const itemId = [...items.keys()][0] ?? base;
  return { state: 'queued', queueId: items.size === 1 ? itemId : base, last };
}

/** Classify the status part of a postfix delivery line. */
export function classifyPostfixLine(message: string): FailureKind | 'deferred' | 'sent' | null {
  const status = /\bstatus=(\w+)/.exec(message)?.[1];
  if (status === 'sent') return 'sent';
  if (
    /SASL authentication failed|authentication failed|SASL login|no worthy mechs/i.test(message) &&
    status !== undefined
  )
    return 'auth';
  if (TLS_WORDS.test(message) && (status !== undefined || BAD_WORDS.test(message))) return 'tls';
  if (status === 'bounced' || status === 'expired') return 'bounced';
  if (status === 'deferred') return 'deferred';
  return null;
}

/** What the journal says about the postfix message whose Message-ID is `messageId` (without <>). */
export function judgePostfix(entries: readonly LogEntry[], messageId: string): MailVerdict {
  return judgePostfixIntake(entries, (e) => {
    const m = /^([0-9A-Za-z]+): message-id=<(.*)>$/.exec(e.message);
    return m?.[2] === messageId ? m[1] : undefined;
  });
}

/**
 * What the journal says about the first message the user with `uid` handed to postfix (pickup
 * logs `QUEUEID: uid=UID from=<...>`), from the lines logged since just before.
 */
export function judgePostfixFromUid(entries: readonly LogEntry[], uid: number): MailVerdict {
  const intake = new RegExp(`^([0-9A-Za-z]+): uid=${String(uid)} from=`);
  return judgePostfixIntake(entries, (e) =>
    e.ident === 'postfix/pickup' ? intake.exec(e.message)?.[1] : undefined,
  );
}

function judgePostfixIntake(
  entries: readonly LogEntry[],
  queueIdOf: (e: LogEntry) => string | undefined,
): MailVerdict {
  const postfix = entries.filter((e) => e.ident.startsWith('postfix'));
  const at = postfix.findIndex((e) => queueIdOf(e) !== undefined);
  const first = postfix[at];
  const queueId = first !== undefined ? queueIdOf(first) : undefined;
  if (first === undefined || queueId === undefined) return { state: 'unseen' };
  const queuedAt = first.time;
  // queue ids derive from inode numbers and come back: only lines from the intake on count
  const mine = postfix.slice(at).filter((e) => e.message.startsWith(`${queueId}: `));
  const last = mine[mine.length - 1];
  if (last === undefined) return { state: 'unseen' };
  // qmgr says how many recipients the message has; it is delivered once each was sent
  const nrcpt = Number(
    /\bnrcpt=(\d+)/.exec(mine.find((e) => /\bnrcpt=/.test(e.message))?.message ?? '')?.[1] ?? 1,
  );
  let sent: LogEntry | undefined;
  let sentCount = 0;
  for (const e of mine) {
    const kind = classifyPostfixLine(e.message);
    if (kind === 'sent') {
      sent = e;
      sentCount++;
    } else if (kind !== null && kind !== 'deferred')
      return { state: 'failed', queueId, kind, last: e };
  }
  if (sent !== undefined && sentCount < nrcpt) return { state: 'queued', queueId, last };
  if (sent !== undefined) {
    const relay = /\brelay=([^,\s]+)/.exec(sent.message)?.[1] ?? null;
    // relay=local or relay=none is not the smarthost accepting it.
    if (relay === null || relay === 'local' || relay === 'none' || relay.startsWith('private/')) {
      return { state: 'failed', queueId, kind: 'local', last: sent };
    }
    return { state: 'delivered', queueId, ids: [queueId], relay, last: sent, queuedAt };
  }
  return { state: 'queued', queueId, last };
}

/** Queue ids listed by `dma -bp` ("Mail queue is empty" or blocks of `ID\t: x`). */
export function parseDmaQueue(stdout: string): string[] {
  const ids: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^ID\s*:\s*(\S+?)\*?$/.exec(line.trim());
    if (m?.[1] !== undefined) ids.push(m[1]);
  }
  return ids;
}

/** Queue ids listed by `postqueue -p` (the first column; `*` active, `!` held). */
export function parsePostfixQueue(stdout: string): string[] {
  const ids: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^([0-9A-F]{6,}|[0-9B-DF-HJ-NP-TV-Zb-z]{10,})[*!]?\s+\d+\s/.exec(line);
    if (m?.[1] !== undefined) ids.push(m[1]);
  }
  return ids;
}
