import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  verifyMail,
  composeMessage,
  parseDetect,
  parseSend,
  sendScript,
  mailCheck,
  type VerifyMailParams,
} from '../../tasks/verifyMail.ts';
import {
  classifyDmaLine,
  judgeDma,
  judgePostfix,
  parseDmaQueue,
  parseJournalJson,
  parsePostfixQueue,
} from '../../tasks/mail-log.ts';
import { ConfigError, TaskFailure, type RemoteShell } from '../../src/index.ts';
import { hostView } from './fixtures.ts';

// ---- Real journal lines, captured on lab3 (Debian bookworm, dma 0.13-1+b1, smarthost 127.0.0.1:587
// with STARTTLS+AUTH) with `journalctl SYSLOG_IDENTIFIER=dma -o json --output-fields=MESSAGE,
// SYSLOG_IDENTIFIER,SYSLOG_PID,_PID`; only the cursor/boot/monotonic fields are left out.
// success: good config. auth: wrong password in auth.conf. tls: STARTTLS removed from dma.conf (dma
// then speaks TLS at once to a port that expects plain SMTP first). fingerprint: FINGERPRINT set to
// a wrong hash. queued: PORT 2525 where nothing listens. badconf: an unknown word in dma.conf.

// success: sendmail pid 581
const SUCCESS_JSON = [
  '{"__REALTIME_TIMESTAMP":"1795238862595134","_PID":"581","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e002","MESSAGE":"new mail from user=root uid=8 envelope_from=<root@lab3>"}',
  '{"__REALTIME_TIMESTAMP":"1795238862595562","_PID":"581","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e002","MESSAGE":"mail to=<ops@example.org> queued as 16e002.5604f32e1be0"}',
  '{"__REALTIME_TIMESTAMP":"1795238862595943","_PID":"582","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e002.5604f32e1be0","MESSAGE":"<ops@example.org> trying delivery"}',
  '{"__REALTIME_TIMESTAMP":"1795238862596145","_PID":"582","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e002.5604f32e1be0","MESSAGE":"using smarthost (127.0.0.1:587)"}',
  '{"__REALTIME_TIMESTAMP":"1795238862596164","_PID":"582","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e002.5604f32e1be0","MESSAGE":"trying remote delivery to 127.0.0.1 [127.0.0.1] pref 0"}',
  '{"__REALTIME_TIMESTAMP":"1795238862704062","_PID":"582","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e002.5604f32e1be0","MESSAGE":"Server greeting successfully completed"}',
  '{"__REALTIME_TIMESTAMP":"1795238862704366","_PID":"582","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e002.5604f32e1be0","MESSAGE":"  Server supports STARTTLS"}',
  '{"__REALTIME_TIMESTAMP":"1795238862704390","_PID":"582","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e002.5604f32e1be0","MESSAGE":"  Server supports LOGIN authentication"}',
  '{"__REALTIME_TIMESTAMP":"1795238862706894","_PID":"582","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e002.5604f32e1be0","MESSAGE":"SSL initialization successful"}',
  '{"__REALTIME_TIMESTAMP":"1795238862707583","_PID":"582","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e002.5604f32e1be0","MESSAGE":"Server greeting successfully completed"}',
  '{"__REALTIME_TIMESTAMP":"1795238862707649","_PID":"582","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e002.5604f32e1be0","MESSAGE":"  Server does not support STARTTLS"}',
  '{"__REALTIME_TIMESTAMP":"1795238862707675","_PID":"582","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e002.5604f32e1be0","MESSAGE":"  Server supports LOGIN authentication"}',
  '{"__REALTIME_TIMESTAMP":"1795238862707708","_PID":"582","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e002.5604f32e1be0","MESSAGE":"using SMTP authentication for user fleetbook"}',
  '{"__REALTIME_TIMESTAMP":"1795238862753166","_PID":"582","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e002.5604f32e1be0","MESSAGE":"<ops@example.org> delivery successful"}',
].join('\n');

// auth: sendmail pid 625
const AUTH_JSON = [
  '{"__REALTIME_TIMESTAMP":"1795238868457777","_PID":"625","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e032","MESSAGE":"new mail from user=root uid=8 envelope_from=<root@lab3>"}',
  '{"__REALTIME_TIMESTAMP":"1795238868458751","_PID":"625","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e032","MESSAGE":"mail to=<ops@example.org> queued as 16e032.560452930bd0"}',
  '{"__REALTIME_TIMESTAMP":"1795238868458845","_PID":"626","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e032.560452930bd0","MESSAGE":"<ops@example.org> trying delivery"}',
  '{"__REALTIME_TIMESTAMP":"1795238868459135","_PID":"626","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e032.560452930bd0","MESSAGE":"using smarthost (127.0.0.1:587)"}',
  '{"__REALTIME_TIMESTAMP":"1795238868459154","_PID":"626","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e032.560452930bd0","MESSAGE":"trying remote delivery to 127.0.0.1 [127.0.0.1] pref 0"}',
  '{"__REALTIME_TIMESTAMP":"1795238868562721","_PID":"626","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e032.560452930bd0","MESSAGE":"Server greeting successfully completed"}',
  '{"__REALTIME_TIMESTAMP":"1795238868562916","_PID":"626","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e032.560452930bd0","MESSAGE":"  Server supports STARTTLS"}',
  '{"__REALTIME_TIMESTAMP":"1795238868562947","_PID":"626","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e032.560452930bd0","MESSAGE":"  Server supports LOGIN authentication"}',
  '{"__REALTIME_TIMESTAMP":"1795238868564946","_PID":"626","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e032.560452930bd0","MESSAGE":"SSL initialization successful"}',
  '{"__REALTIME_TIMESTAMP":"1795238868565402","_PID":"626","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e032.560452930bd0","MESSAGE":"Server greeting successfully completed"}',
  '{"__REALTIME_TIMESTAMP":"1795238868565507","_PID":"626","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e032.560452930bd0","MESSAGE":"  Server does not support STARTTLS"}',
  '{"__REALTIME_TIMESTAMP":"1795238868565541","_PID":"626","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e032.560452930bd0","MESSAGE":"  Server supports LOGIN authentication"}',
  '{"__REALTIME_TIMESTAMP":"1795238868565558","_PID":"626","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e032.560452930bd0","MESSAGE":"using SMTP authentication for user fleetbook"}',
  '{"__REALTIME_TIMESTAMP":"1795238868566108","_PID":"626","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e032.560452930bd0","MESSAGE":"remote delivery failed: Authentication failed: 535 Error: Authentication credentials invalid"}',
  '{"__REALTIME_TIMESTAMP":"1795238868566167","_PID":"626","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e032.560452930bd0","MESSAGE":"remote delivery failed: SMTP login failed: Success"}',
  '{"__REALTIME_TIMESTAMP":"1795238868566348","_PID":"626","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e032.560452930bd0","MESSAGE":"delivery failed, bouncing as 16e062"}',
  '{"__REALTIME_TIMESTAMP":"1795238868567289","_PID":"626","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e062","MESSAGE":"new mail from user=root uid=8 envelope_from=<>"}',
  '{"__REALTIME_TIMESTAMP":"1795238868567537","_PID":"626","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e062","MESSAGE":"mail to=<root> queued as 16e062.5604529a2590"}',
  '{"__REALTIME_TIMESTAMP":"1795238868567793","_PID":"626","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e062.5604529a2590","MESSAGE":"<root> trying delivery"}',
  '{"__REALTIME_TIMESTAMP":"1795238868569859","_PID":"626","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e062.5604529a2590","MESSAGE":"<root> delivery successful"}',
].join('\n');

// tls: sendmail pid 681
const TLS_JSON = [
  '{"__REALTIME_TIMESTAMP":"1795238877011085","_PID":"681","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e103","MESSAGE":"new mail from user=root uid=8 envelope_from=<root@lab3>"}',
  '{"__REALTIME_TIMESTAMP":"1795238877011505","_PID":"681","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e103","MESSAGE":"mail to=<ops@example.org> queued as 16e103.558694a7bbe0"}',
  '{"__REALTIME_TIMESTAMP":"1795238877011897","_PID":"682","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e103.558694a7bbe0","MESSAGE":"<ops@example.org> trying delivery"}',
  '{"__REALTIME_TIMESTAMP":"1795238877012059","_PID":"682","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e103.558694a7bbe0","MESSAGE":"using smarthost (127.0.0.1:587)"}',
  '{"__REALTIME_TIMESTAMP":"1795238877012077","_PID":"682","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e103.558694a7bbe0","MESSAGE":"trying remote delivery to 127.0.0.1 [127.0.0.1] pref 0"}',
  '{"__REALTIME_TIMESTAMP":"1795238877014798","_PID":"682","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e103.558694a7bbe0","MESSAGE":"remote delivery deferred: SSL handshake failed fatally: error:0A00010B:SSL routines::wrong version number"}',
].join('\n');

// fingerprint: sendmail pid 737
const FINGERPRINT_JSON = [
  '{"__REALTIME_TIMESTAMP":"1795238891694043","_PID":"737","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e004","MESSAGE":"new mail from user=root uid=8 envelope_from=<root@lab3>"}',
  '{"__REALTIME_TIMESTAMP":"1795238891698212","_PID":"737","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e004","MESSAGE":"mail to=<ops@example.org> queued as 16e004.560c009dcc60"}',
  '{"__REALTIME_TIMESTAMP":"1795238891698684","_PID":"738","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e004.560c009dcc60","MESSAGE":"<ops@example.org> trying delivery"}',
  '{"__REALTIME_TIMESTAMP":"1795238891698938","_PID":"738","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e004.560c009dcc60","MESSAGE":"using smarthost (127.0.0.1:587)"}',
  '{"__REALTIME_TIMESTAMP":"1795238891698957","_PID":"738","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e004.560c009dcc60","MESSAGE":"trying remote delivery to 127.0.0.1 [127.0.0.1] pref 0"}',
  '{"__REALTIME_TIMESTAMP":"1795238891806590","_PID":"738","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e004.560c009dcc60","MESSAGE":"Server greeting successfully completed"}',
  '{"__REALTIME_TIMESTAMP":"1795238891806743","_PID":"738","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e004.560c009dcc60","MESSAGE":"  Server supports STARTTLS"}',
  '{"__REALTIME_TIMESTAMP":"1795238891806762","_PID":"738","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e004.560c009dcc60","MESSAGE":"  Server supports LOGIN authentication"}',
  '{"__REALTIME_TIMESTAMP":"1795238891809471","_PID":"738","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e004.560c009dcc60","MESSAGE":"fingerprints do not match"}',
].join('\n');

// queued: sendmail pid 789
const QUEUED_JSON = [
  '{"__REALTIME_TIMESTAMP":"1795238900883623","_PID":"789","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e034","MESSAGE":"new mail from user=root uid=8 envelope_from=<root@lab3>"}',
  '{"__REALTIME_TIMESTAMP":"1795238900884400","_PID":"789","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e034","MESSAGE":"mail to=<ops@example.org> queued as 16e034.55dc3db80be0"}',
  '{"__REALTIME_TIMESTAMP":"1795238900890369","_PID":"790","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e034.55dc3db80be0","MESSAGE":"<ops@example.org> trying delivery"}',
  '{"__REALTIME_TIMESTAMP":"1795238900890757","_PID":"790","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e034.55dc3db80be0","MESSAGE":"using smarthost (127.0.0.1:2525)"}',
  '{"__REALTIME_TIMESTAMP":"1795238900890780","_PID":"790","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e034.55dc3db80be0","MESSAGE":"trying remote delivery to 127.0.0.1 [127.0.0.1] pref 0"}',
  '{"__REALTIME_TIMESTAMP":"1795238900890799","_PID":"790","SYSLOG_IDENTIFIER":"dma","SYSLOG_PID":"16e034.55dc3db80be0","MESSAGE":"connect to 127.0.0.1 [127.0.0.1] failed: Connection refused"}',
].join('\n');

// badconf: sendmail pid 833
const BADCONF_JSON = [
  '{"__REALTIME_TIMESTAMP":"1795238909099138","_PID":"833","SYSLOG_IDENTIFIER":"dma","MESSAGE":"syntax error in /etc/dma/dma.conf:7"}',
].join('\n');

const FIXTURES = {
  success: { json: SUCCESS_JSON, senderPid: 581, queueBase: '16e002' },
  authFailure: {
    json: AUTH_JSON,
    senderPid: 625,
    line: 'remote delivery failed: Authentication failed: 535 Error: Authentication credentials invalid',
  },
  tlsFailure: {
    json: TLS_JSON,
    senderPid: 681,
    line: 'remote delivery deferred: SSL handshake failed fatally: error:0A00010B:SSL routines::wrong version number',
  },
  fingerprint: { json: FINGERPRINT_JSON, senderPid: 737, line: 'fingerprints do not match' },
  stillQueued: {
    json: QUEUED_JSON,
    senderPid: 789,
    line: 'connect to 127.0.0.1 [127.0.0.1] failed: Connection refused',
  },
  badConf: {
    json: BADCONF_JSON,
    senderPid: 833,
    output: 'sendmail: syntax error in /etc/dma/dma.conf:7',
  },
  // `dma -bp`, real output
  queueEmpty: 'Mail queue is empty\n',
  queueOne: {
    text: 'ID\t: 16e103.558694a7bbe0\nFrom\t: root@lab3\nTo\t: ops@example.org\n',
    id: '16e103.558694a7bbe0',
  },
  classes: [
    ['new mail from user=root uid=8 envelope_from=<root@lab3>', null],
    ['using SMTP authentication for user fleetbook', null],
    ['SSL initialization successful', null],
    ['  Server does not support STARTTLS', null],
    ['<ops@example.org> delivery successful', null],
    [
      'remote delivery failed: Authentication failed: 535 Error: Authentication credentials invalid',
      'auth',
    ],
    ['remote delivery failed: SMTP login failed: Success', 'auth'],
    [
      'remote delivery deferred: SSL handshake failed fatally: error:0A00010B:SSL routines::wrong version number',
      'tls',
    ],
    ['fingerprints do not match', 'tls'],
    ['delivery failed, bouncing as 16e062', 'bounced'],
    ['connect to 127.0.0.1 [127.0.0.1] failed: Connection refused', 'deferred'],
  ] as Array<[string, ReturnType<typeof classifyDmaLine>]>,
};

const host = hostView({ name: 'lab3', address: '127.0.1.3' });

test('plan is read-only: ok with a note and one verify action, in check mode as in a real run', () => {
  const task = verifyMail({ to: 'ops@example.org' });
  assert.deepEqual(task.probe(undefined), {});
  for (const notified of [false, true]) {
    const plan = task.plan({}, undefined, { host, notified });
    assert.equal(plan.status, 'ok');
    if (plan.status !== 'ok') return;
    assert.equal(
      plan.note,
      'would send a test message to ops@example.org through /usr/sbin/sendmail and wait for the smarthost to accept it',
    );
    assert.equal(plan.verify?.length, 1);
    assert.equal(
      plan.verify?.[0]?.describe,
      'check that mail to ops@example.org reaches the smarthost',
    );
  }
});

test('params: addresses cannot inject headers or shell; unknown fields are caught', () => {
  assert.throws(() => verifyMail({ to: 'ops@example.org\nBcc: x@y.z' }), ConfigError);
  assert.throws(() => verifyMail({ to: 'ops@example.org', from: '-oQ/tmp@x' }), ConfigError);
  assert.throws(() => verifyMail({ to: 'a b@example.org' }), ConfigError);
  assert.throws(() => verifyMail({ to: 'ops@example.org', subject: 'x\r\nBcc: y@z' }), ConfigError);
  assert.throws(() => verifyMail({ to: 'ops@example.org', mta: 'exim' as 'dma' }), ConfigError);
  const misspelled = () =>
    // @ts-expect-error a misspelled parameter must not compile (and fails validation at run time)
    verifyMail({ to: 'ops@example.org', timeoutSecond: 5 });
  assert.throws(misspelled, /did you mean "timeoutSeconds"/);
  assert.doesNotThrow(() =>
    verifyMail({
      to: 'ops+fleet@example.org',
      from: 'root@lab3.example',
      timeoutSeconds: 30,
      mta: 'dma',
    }),
  );
});

test('the message carries the token in Subject, Message-ID and body', () => {
  const p: VerifyMailParams = { to: 'ops@example.org', from: 'root@lab3.example' };
  const m = composeMessage(
    p,
    'lab3',
    'lab3.example',
    'abc123',
    new Date(Date.UTC(2024, 0, 2, 15, 4, 5)),
  );
  assert.equal(m.subject, 'fleetbook verifyMail abc123');
  assert.equal(m.messageId, 'fleetbook-verifymail.abc123@lab3.example');
  const cut = m.text.indexOf('\n\n');
  const head = m.text.slice(0, cut);
  const body = m.text.slice(cut + 2);
  assert.match(head, /^From: <root@lab3\.example>$/m);
  assert.match(head, /^To: <ops@example\.org>$/m);
  assert.match(head, /^Subject: fleetbook verifyMail abc123$/m);
  assert.match(head, /^Message-ID: <fleetbook-verifymail\.abc123@lab3\.example>$/m);
  assert.match(head, /^Date: Tue, 02 Jan 2024 15:04:05 \+0000$/m);
  assert.match(body, /token: abc123/);
  // no From: when none is given: the MTA sets it (dma: From: <root@MAILNAME>)
  assert.doesNotMatch(
    composeMessage({ to: 'ops@example.org' }, 'lab3', 'h', 't', new Date()).text,
    /^From:/m,
  );
});

test('sendmail runs with its PID printed first, the message on stdin, the address after --', () => {
  assert.equal(
    sendScript({ to: 'ops@example.org', from: 'root@lab3.example' }).text,
    `sh -c 'echo "pid=$$"; exec "$@"' fleetbook-sendmail /usr/sbin/sendmail -i -f root@lab3.example -- ops@example.org 2>&1; echo "rc=$?"`,
  );
  assert.deepEqual(parseSend('pid=4242\nrc=0\n'), { pid: 4242, rc: 0, output: '' });
  assert.deepEqual(parseSend('pid=77\nsendmail: invalid recipient\nrc=65\n'), {
    pid: 77,
    rc: 65,
    output: 'sendmail: invalid recipient',
  });
  assert.equal(parseSend('sh: 1: /usr/sbin/sendmail: not found\n').pid, null);
});

test('detect: dma behind /usr/sbin/sendmail, the host clock and mailname', () => {
  const h = parseDetect(
    'sendmail=/usr/sbin/dma\nmta=dma\nmailname=lab3.example\nnow=1700000000\njournal=yes\n',
  );
  assert.deepEqual(h, {
    mta: 'dma',
    sendmail: '/usr/sbin/dma',
    mailname: 'lab3.example',
    now: 1700000000,
    journal: true,
  });
  assert.equal(parseDetect('mta=none\nmailname=x\nnow=1\njournal=yes\n').mta, 'none');
  assert.equal(parseDetect('sendmail=/usr/sbin/exim4\nmta=other\n').mta, 'other');
});

// ---- dma, fed with journal lines captured on a real Debian bookworm host (dma 0.13) ----

test('journal json: dma queue id is SYSLOG_PID, the sending process is _PID', () => {
  const entries = parseJournalJson(FIXTURES.success.json);
  assert.ok(entries.length >= 5);
  const intake = entries.find((e) => e.message.startsWith('new mail from'));
  assert.equal(intake?.ident, 'dma');
  assert.equal(intake?.pid, FIXTURES.success.senderPid);
  assert.equal(intake?.tag, FIXTURES.success.queueBase);
});

test('dma: delivered through the smarthost (real lines)', () => {
  const v = judgeDma(parseJournalJson(FIXTURES.success.json), FIXTURES.success.senderPid);
  assert.equal(v.state, 'delivered');
  if (v.state !== 'delivered') return;
  assert.equal(v.relay, '127.0.0.1:587');
  assert.match(v.queueId, new RegExp(`^${FIXTURES.success.queueBase}\\.[0-9a-f]+$`));
  assert.match(v.last.message, /delivery successful$/);
  assert.ok(v.last.time >= v.queuedAt);
});

test('dma: another message in the same window is not mistaken for ours', () => {
  // The same lines, but we were a different sendmail process: nothing of it is ours.
  const entries = parseJournalJson(FIXTURES.success.json);
  assert.equal(judgeDma(entries, FIXTURES.success.senderPid + 1).state, 'unseen');
  // Two messages interleaved: each sender's verdict follows its own queue id.
  const both = [
    ...parseJournalJson(FIXTURES.success.json),
    ...parseJournalJson(FIXTURES.authFailure.json),
  ].sort((a, b) => a.time - b.time);
  assert.equal(judgeDma(both, FIXTURES.success.senderPid).state, 'delivered');
  assert.equal(judgeDma(both, FIXTURES.authFailure.senderPid).state, 'failed');
});

test('dma: wrong password -> failed "auth", quoting the real line', () => {
  const v = judgeDma(parseJournalJson(FIXTURES.authFailure.json), FIXTURES.authFailure.senderPid);
  assert.equal(v.state, 'failed');
  if (v.state !== 'failed') return;
  assert.equal(v.kind, 'auth');
  assert.equal(v.last.message, FIXTURES.authFailure.line);
});

test('dma: TLS failure -> failed "tls", quoting the real line', () => {
  const v = judgeDma(parseJournalJson(FIXTURES.tlsFailure.json), FIXTURES.tlsFailure.senderPid);
  assert.equal(v.state, 'failed');
  if (v.state !== 'failed') return;
  assert.equal(v.kind, 'tls');
  assert.equal(v.last.message, FIXTURES.tlsFailure.line);
});

test('dma: server certificate fingerprint mismatch -> failed "tls"', () => {
  const v = judgeDma(parseJournalJson(FIXTURES.fingerprint.json), FIXTURES.fingerprint.senderPid);
  assert.equal(v.state === 'failed' && v.kind, 'tls');
  assert.equal(v.last?.message, FIXTURES.fingerprint.line);
});

test('dma: the bounce that an auth failure causes is not taken for our message', () => {
  // dma bounces to root under a new queue id, delivered locally ("<root> delivery successful").
  const entries = parseJournalJson(FIXTURES.authFailure.json);
  assert.ok(entries.some((e) => e.message === '<root> delivery successful'));
  const v = judgeDma(entries, FIXTURES.authFailure.senderPid);
  assert.equal(v.queueId, '16e032.560452930bd0');
});

test('dma: delivered into a local mailbox (no smarthost line) is not a pass', () => {
  // In the same real capture, the bounce (read in by the delivery process 626) went to root's mbox.
  const v = judgeDma(parseJournalJson(FIXTURES.authFailure.json), 626);
  assert.equal(v.state === 'failed' && v.kind, 'local');
  assert.equal(v.last?.message, '<root> delivery successful');
});

test('dma: smarthost down -> still queued, last line is the deferral', () => {
  const v = judgeDma(parseJournalJson(FIXTURES.stillQueued.json), FIXTURES.stillQueued.senderPid);
  assert.equal(v.state, 'queued');
  if (v.state !== 'queued') return;
  assert.equal(v.last.message, FIXTURES.stillQueued.line);
});

test('dma: only the intake so far -> queued (not delivered, not failed)', () => {
  const entries = parseJournalJson(FIXTURES.success.json);
  const cut = entries.filter((e) => !/delivery successful/.test(e.message));
  assert.equal(judgeDma(cut, FIXTURES.success.senderPid).state, 'queued');
});

test('dma line classes', () => {
  for (const [line, kind] of FIXTURES.classes) assert.equal(classifyDmaLine(line), kind, line);
});

test('dma -bp: empty and non-empty queue (real output)', () => {
  assert.deepEqual(parseDmaQueue(FIXTURES.queueEmpty), []);
  assert.deepEqual(parseDmaQueue(FIXTURES.queueOne.text), [FIXTURES.queueOne.id]);
});

// ---- postfix 3.7.11 on the same host (relayhost [127.0.0.1]:587, SASL, smtp_tls_security_level
// encrypt), real lines. auth: wrong password in sasl_passwd. tls: smtp_tls_security_level=verify
// against the smarthost's self-signed certificate. queued: relayhost port 2525. The last line of a
// failed one is verifyMail's own postsuper -d removing its test message.

const PFSUCCESS_JSON = [
  '{"__REALTIME_TIMESTAMP":"1795239226683370","_PID":"3046","SYSLOG_IDENTIFIER":"postfix/pickup","SYSLOG_PID":"3046","MESSAGE":"A6CDB18073C: uid=0 from=<root>"}',
  '{"__REALTIME_TIMESTAMP":"1795239226688744","_PID":"3074","SYSLOG_IDENTIFIER":"postfix/cleanup","SYSLOG_PID":"3074","MESSAGE":"A6CDB18073C: message-id=<fleetbook-verifymail.663f829657116902262a68d3@lab3>"}',
  '{"__REALTIME_TIMESTAMP":"1795239226689469","_PID":"3047","SYSLOG_IDENTIFIER":"postfix/qmgr","SYSLOG_PID":"3047","MESSAGE":"A6CDB18073C: from=<root@lab3>, size=575, nrcpt=1 (queue active)"}',
  '{"__REALTIME_TIMESTAMP":"1795239226822651","_PID":"3077","SYSLOG_IDENTIFIER":"postfix/smtp","SYSLOG_PID":"3077","MESSAGE":"A6CDB18073C: to=<ops@example.org>, relay=127.0.0.1[127.0.0.1]:587, delay=0.15, delays=0.02/0.02/0.11/0, dsn=2.0.0, status=sent (250 OK: queued as 20261121T053346821Z-a435a55b)"}',
  '{"__REALTIME_TIMESTAMP":"1795239226823742","_PID":"3047","SYSLOG_IDENTIFIER":"postfix/qmgr","SYSLOG_PID":"3047","MESSAGE":"A6CDB18073C: removed"}',
].join('\n');

const PFAUTH_JSON = [
  '{"__REALTIME_TIMESTAMP":"1795239233647660","_PID":"3046","SYSLOG_IDENTIFIER":"postfix/pickup","SYSLOG_PID":"3046","MESSAGE":"9E145180741: uid=0 from=<root>"}',
  '{"__REALTIME_TIMESTAMP":"1795239233648535","_PID":"3074","SYSLOG_IDENTIFIER":"postfix/cleanup","SYSLOG_PID":"3074","MESSAGE":"9E145180741: message-id=<fleetbook-verifymail.26e55bfcf95a83fd5db066ae@lab3>"}',
  '{"__REALTIME_TIMESTAMP":"1795239233649423","_PID":"3047","SYSLOG_IDENTIFIER":"postfix/qmgr","SYSLOG_PID":"3047","MESSAGE":"9E145180741: from=<root@lab3>, size=575, nrcpt=1 (queue active)"}',
  '{"__REALTIME_TIMESTAMP":"1795239233813619","_PID":"3132","SYSLOG_IDENTIFIER":"postfix/smtp","SYSLOG_PID":"3132","MESSAGE":"9E145180741: to=<ops@example.org>, relay=127.0.0.1[127.0.0.1]:587, delay=0.16, delays=0/0.01/0.15/0, dsn=4.0.0, status=deferred (SASL authentication failed; server 127.0.0.1[127.0.0.1] said: 535 Error: Authentication credentials invalid)"}',
  '{"__REALTIME_TIMESTAMP":"1795239234070131","_PID":"3149","SYSLOG_IDENTIFIER":"postfix/postsuper","SYSLOG_PID":"3149","MESSAGE":"9E145180741: removed"}',
].join('\n');

const PFTLS_JSON = [
  '{"__REALTIME_TIMESTAMP":"1795239237437958","_PID":"3170","SYSLOG_IDENTIFIER":"postfix/pickup","SYSLOG_PID":"3170","MESSAGE":"6AD89180746: uid=0 from=<root>"}',
  '{"__REALTIME_TIMESTAMP":"1795239237442220","_PID":"3192","SYSLOG_IDENTIFIER":"postfix/cleanup","SYSLOG_PID":"3192","MESSAGE":"6AD89180746: message-id=<fleetbook-verifymail.9cd62c0564167a0fcfe09a96@lab3>"}',
  '{"__REALTIME_TIMESTAMP":"1795239237443355","_PID":"3171","SYSLOG_IDENTIFIER":"postfix/qmgr","SYSLOG_PID":"3171","MESSAGE":"6AD89180746: from=<root@lab3>, size=575, nrcpt=1 (queue active)"}',
  '{"__REALTIME_TIMESTAMP":"1795239237571936","_PID":"3194","SYSLOG_IDENTIFIER":"postfix/smtp","SYSLOG_PID":"3194","MESSAGE":"6AD89180746: to=<ops@example.org>, relay=127.0.0.1[127.0.0.1]:587, delay=0.13, delays=0.01/0.02/0.1/0, dsn=4.7.5, status=deferred (Server certificate not verified)"}',
  '{"__REALTIME_TIMESTAMP":"1795239237857437","_PID":"3212","SYSLOG_IDENTIFIER":"postfix/postsuper","SYSLOG_PID":"3212","MESSAGE":"6AD89180746: removed"}',
].join('\n');

const PFQUEUED_JSON = [
  '{"__REALTIME_TIMESTAMP":"1795239241428788","_PID":"3230","SYSLOG_IDENTIFIER":"postfix/pickup","SYSLOG_PID":"3230","MESSAGE":"68A2C18074B: uid=0 from=<root>"}',
  '{"__REALTIME_TIMESTAMP":"1795239241432920","_PID":"3253","SYSLOG_IDENTIFIER":"postfix/cleanup","SYSLOG_PID":"3253","MESSAGE":"68A2C18074B: message-id=<fleetbook-verifymail.ded241b72f425db732a65d36@lab3>"}',
  '{"__REALTIME_TIMESTAMP":"1795239241438129","_PID":"3232","SYSLOG_IDENTIFIER":"postfix/qmgr","SYSLOG_PID":"3232","MESSAGE":"68A2C18074B: from=<root@lab3>, size=575, nrcpt=1 (queue active)"}',
  '{"__REALTIME_TIMESTAMP":"1795239241462487","_PID":"3255","SYSLOG_IDENTIFIER":"postfix/smtp","SYSLOG_PID":"3255","MESSAGE":"68A2C18074B: to=<ops@example.org>, relay=none, delay=0.03, delays=0.01/0.02/0/0, dsn=4.4.1, status=deferred (connect to 127.0.0.1[127.0.0.1]:2525: Connection refused)"}',
  '{"__REALTIME_TIMESTAMP":"1795239246687010","_PID":"3305","SYSLOG_IDENTIFIER":"postfix/postsuper","SYSLOG_PID":"3305","MESSAGE":"68A2C18074B: removed"}',
].join('\n');

const PF_IDS = {
  success: 'fleetbook-verifymail.663f829657116902262a68d3@lab3',
  auth: 'fleetbook-verifymail.26e55bfcf95a83fd5db066ae@lab3',
  tls: 'fleetbook-verifymail.9cd62c0564167a0fcfe09a96@lab3',
  queued: 'fleetbook-verifymail.ded241b72f425db732a65d36@lab3',
};

test('postfix: status=sent with relay= on the queue id of our message-id', () => {
  const v = judgePostfix(parseJournalJson(PFSUCCESS_JSON), PF_IDS.success);
  assert.equal(v.state, 'delivered');
  if (v.state !== 'delivered') return;
  assert.equal(v.queueId, 'A6CDB18073C');
  assert.equal(v.relay, '127.0.0.1[127.0.0.1]:587');
  // someone else's message in the same window
  assert.equal(judgePostfix(parseJournalJson(PFSUCCESS_JSON), PF_IDS.auth).state, 'unseen');
});

test('postfix: SASL failure and TLS failure fail fast; a connection refused waits', () => {
  const auth = judgePostfix(parseJournalJson(PFAUTH_JSON), PF_IDS.auth);
  assert.equal(auth.state === 'failed' && auth.kind, 'auth');
  assert.match(
    auth.last?.message ?? '',
    /status=deferred \(SASL authentication failed; server 127\.0\.0\.1\[127\.0\.0\.1\] said: 535 Error: Authentication credentials invalid\)$/,
  );
  const tls = judgePostfix(parseJournalJson(PFTLS_JSON), PF_IDS.tls);
  assert.equal(tls.state === 'failed' && tls.kind, 'tls');
  assert.match(tls.last?.message ?? '', /status=deferred \(Server certificate not verified\)$/);
  const later = judgePostfix(parseJournalJson(PFQUEUED_JSON), PF_IDS.queued);
  assert.equal(later.state, 'queued');
  assert.match(later.last?.message ?? '', /removed$|Connection refused\)$/);
});

test('postqueue -p ids (real output)', () => {
  const out =
    '-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n7457518074E     234 Sat Nov 21 05:34:19  root@lab3\n                    (connect to 127.0.0.1[127.0.0.1]:2525: Connection refused)\n                                         ops@example.org\n\n-- 0 Kbytes in 1 Request.\n';
  assert.deepEqual(parsePostfixQueue(out), ['7457518074E']);
  assert.deepEqual(parsePostfixQueue('Mail queue is empty\n'), []);
});

// ---- the verify action end to end over a scripted shell (clock injected) ----

/** Answers each script kind from a table; the journal answer may change per poll. */
function fakeHost(
  journal: () => string,
  queue = FIXTURES.queueEmpty,
  senderPid = FIXTURES.success.senderPid,
) {
  const seen: Array<{ script: string; stdin?: string | Buffer }> = [];
  let t = 0;
  const shell: RemoteShell = {
    exec({ text: script }, opts) {
      seen.push({ script, ...(opts?.stdin !== undefined ? { stdin: opts.stdin } : {}) });
      const ok = (stdout: string) => Promise.resolve({ code: 0, stdout, stderr: '' });
      if (script.startsWith('sm='))
        return ok(
          'sendmail=/usr/sbin/dma\nmta=dma\nmailname=lab3.example\nnow=1700000000\njournal=yes\n',
        );
      if (script.startsWith('sh -c')) return ok(`pid=${senderPid}\nrc=0\n`);
      if (script.startsWith('journalctl')) return ok(journal());
      if (script.startsWith('dma -bp')) return ok(queue);
      return Promise.resolve({ code: 127, stdout: '', stderr: 'unexpected' });
    },
  };
  return {
    shell,
    seen,
    opts: {
      token: 'tok',
      now: () => t,
      sleep: (ms: number) => ((t += ms), Promise.resolve()),
      pollIntervalMs: 1000,
    },
    elapsed: () => t,
  };
}

test('action: delivered -> note naming smarthost and queue id; journal read since the host clock', async () => {
  let polls = 0;
  const h = fakeHost(() => (++polls < 3 ? '' : FIXTURES.success.json));
  const note = await mailCheck({ to: 'ops@example.org' }, 'lab3', h.opts).run(h.shell);
  assert.match(
    note ?? '',
    /^delivered to smarthost 127\.0\.0\.1:587 \(queue id [0-9a-f]+\.[0-9a-f]+\) in \d+\.\ds$/,
  );
  const send = h.seen.find((s) => s.script.startsWith('sh -c'));
  assert.match(String(send?.stdin), /^Subject: fleetbook verifyMail tok$/m);
  assert.ok(h.seen.some((s) => s.script.includes('--since=@1699999999')));
});

test('action: auth failure fails fast, quoting the line', async () => {
  const h = fakeHost(
    () => FIXTURES.authFailure.json,
    FIXTURES.queueEmpty,
    FIXTURES.authFailure.senderPid,
  );
  const err = await mailCheck({ to: 'ops@example.org', timeoutSeconds: 60 }, 'lab3', h.opts)
    .run(h.shell)
    .catch((e: unknown) => e);
  assert.ok(err instanceof TaskFailure);
  assert.match(err.message, /authentication failed/);
  assert.ok(err.message.includes(FIXTURES.authFailure.line), err.message);
  assert.ok(h.elapsed() < 2000, 'did not wait for the timeout');
});

test('action: still queued at the timeout -> names what was last seen', async () => {
  const h = fakeHost(
    () => FIXTURES.stillQueued.json,
    FIXTURES.queueOne.text,
    FIXTURES.stillQueued.senderPid,
  );
  const err = await mailCheck({ to: 'ops@example.org', timeoutSeconds: 10 }, 'lab3', h.opts)
    .run(h.shell)
    .catch((e: unknown) => e);
  assert.ok(err instanceof TaskFailure);
  assert.match(
    err.message,
    /not accepted by the smarthost within 10s; last seen for it \(queue id /,
  );
  assert.ok(err.message.includes(FIXTURES.stillQueued.line), err.message);
  assert.ok(h.elapsed() >= 10000);
});

test('action: delivered but the queue is not empty -> fails', async () => {
  const h = fakeHost(() => FIXTURES.success.json, FIXTURES.queueOne.text);
  const err = await mailCheck({ to: 'ops@example.org' }, 'lab3', h.opts)
    .run(h.shell)
    .catch((e: unknown) => e);
  assert.ok(err instanceof TaskFailure);
  assert.match(err.message, /queue still holds 1 other message/);
});

test('action: sendmail exits non-zero (bad dma.conf) -> fails with its output and journal line', async () => {
  const h = fakeHost(() => FIXTURES.badConf.json, FIXTURES.queueEmpty, FIXTURES.badConf.senderPid);
  const shell: RemoteShell = {
    exec: (script, opts) =>
      script.text.startsWith('sh -c')
        ? Promise.resolve({
            code: 0,
            stdout: `pid=${FIXTURES.badConf.senderPid}\n${FIXTURES.badConf.output}\nrc=78\n`,
            stderr: '',
          })
        : h.shell.exec(script, opts),
  };
  const err = await mailCheck({ to: 'ops@example.org' }, 'lab3', h.opts)
    .run(shell)
    .catch((e: unknown) => e);
  assert.ok(err instanceof TaskFailure);
  assert.equal(
    err.message,
    '/usr/sbin/sendmail exited with status 78; the test message was not queued',
  );
  assert.equal(err.details, `${FIXTURES.badConf.output}\ndma: syntax error in /etc/dma/dma.conf:7`);
});

test('action: a failed message is removed from the queue (it is ours)', async () => {
  const h = fakeHost(
    () => FIXTURES.tlsFailure.json,
    FIXTURES.queueEmpty,
    FIXTURES.tlsFailure.senderPid,
  );
  await mailCheck({ to: 'ops@example.org' }, 'lab3', h.opts)
    .run(h.shell)
    .catch(() => undefined);
  const drop = h.seen.find((s) => s.script.includes('rm -f'));
  assert.match(drop?.script ?? '', /\/Q16e103\.\* .*\/M16e103\.\*$/);
});

test('action: wrong MTA or none -> fails before sending anything', async () => {
  const h = fakeHost(() => '');
  const err = await mailCheck({ to: 'ops@example.org', mta: 'postfix' }, 'lab3', h.opts)
    .run(h.shell)
    .catch((e: unknown) => e);
  assert.ok(err instanceof TaskFailure);
  assert.match(err.message, /expected postfix but \/usr\/sbin\/sendmail is dma/);
  assert.ok(!h.seen.some((s) => s.script.startsWith('sh -c')));
});
