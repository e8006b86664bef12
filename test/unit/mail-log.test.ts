// The MTA journal judging verifyMail and the django-app role's sendtestemail share, on journal
// lines captured from a lab host (test/fixtures/mail-log/README.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  judgeDmaFromUser,
  judgePostfixFromUid,
  parseJournalJson,
  type LogEntry,
} from '../../tasks/index.ts';

const fixture = (name: string): LogEntry[] =>
  parseJournalJson(readFileSync(`test/fixtures/mail-log/${name}`, 'utf8'));
const dma = fixture('dma-sendtestemail.jsonl');
const postfix = fixture('postfix-sendtestemail.jsonl');
/** The first `n` lines that match, and every other line before them. */
const upTo = (lines: readonly LogEntry[], match: (e: LogEntry) => boolean, n: number) =>
  lines.slice(
    0,
    lines.findIndex((e, i) => match(e) && lines.slice(0, i + 1).filter(match).length === n) + 1,
  );

test('dma: the message the app user submitted is delivered once every recipient is', () => {
  const v = judgeDmaFromUser(dma, 'fbdemo');
  assert.equal(v.state, 'delivered');
  assert.deepEqual(v.state === 'delivered' ? [...v.ids].sort() : [], [
    '1ae916.5573447ff370',
    '1ae916.5573447ff5d0',
  ]);
  assert.equal(v.state === 'delivered' ? v.relay : null, '127.0.0.1:587');
  const first = upTo(dma, (e) => e.message.endsWith('delivery successful'), 1);
  assert.equal(judgeDmaFromUser(first, 'fbdemo').state, 'queued', 'one of two recipients done');
  assert.equal(judgeDmaFromUser(dma, 'nobody').state, 'unseen');
});

test("dma: root's message in the same log is not the app user's", () => {
  const v = judgeDmaFromUser(dma, 'root');
  assert.equal(v.state, 'delivered');
  assert.deepEqual(v.state === 'delivered' ? v.ids : [], ['1ae919.564ffa870370']);
});

test('postfix: the message uid 999 submitted is delivered once every recipient (nrcpt) was sent', () => {
  const v = judgePostfixFromUid(postfix, 999);
  assert.equal(v.state, 'delivered');
  assert.deepEqual(v.state === 'delivered' ? v.ids : [], ['DD7C81C2612']);
  const one = upTo(postfix, (e) => /status=sent/.test(e.message), 2);
  assert.equal(judgePostfixFromUid(one, 999).state, 'queued', 'one of two recipients sent');
  // root's messages (uid 0) on either side are other messages
  const root = judgePostfixFromUid(postfix, 0);
  assert.deepEqual(root.state === 'delivered' ? root.ids : [], ['4C8981C261A']);
  assert.equal(judgePostfixFromUid(postfix, 1000).state, 'unseen');
});

test('postfix: a bounce of one recipient fails the message, naming the line', () => {
  const bounced = postfix.map((e) =>
    e.message.includes('to=<sam@example.org>')
      ? {
          ...e,
          message: e.message.replace('status=sent (250 OK', 'status=bounced (550 no such user'),
        }
      : e,
  );
  const v = judgePostfixFromUid(bounced, 999);
  assert.equal(v.state, 'failed');
  assert.equal(v.state === 'failed' ? v.kind : '', 'bounced');
  assert.match(v.last?.message ?? '', /to=<sam@example.org>.*status=bounced/);
});
