import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { parseKnownHosts, verifyHostKey, knownHostsLine } from '../../src/transport/known-hosts.ts';

function blob(type: string, body: string): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.from(body)]);
}
const keyA = blob('ssh-ed25519', 'AAAA');
const keyB = blob('ssh-ed25519', 'BBBB');
const rsa = blob('ssh-rsa', 'CCCC');

test('known_hosts verdicts', () => {
  const salt = Buffer.from('0123456789abcdef0123');
  const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('10.9.9.9').digest('base64')}`;
  const text = [
    '# comment',
    `127.0.1.1 ssh-ed25519 ${keyA.toString('base64')}`,
    `[127.0.1.2]:2222,alias ssh-ed25519 ${keyA.toString('base64')}`,
    `${hashed} ssh-ed25519 ${keyB.toString('base64')}`,
    `127.0.1.3 ssh-rsa ${rsa.toString('base64')}`,
  ].join('\n');
  const entries = parseKnownHosts(text);
  const cases: [string, number, Buffer, string][] = [
    ['127.0.1.1', 22, keyA, 'known'],
    ['127.0.1.1', 22, keyB, 'changed'],
    ['127.0.1.2', 2222, keyA, 'known'],
    ['127.0.1.2', 22, keyA, 'unknown'],
    ['10.9.9.9', 22, keyB, 'known'],
    ['10.9.9.9', 22, keyA, 'changed'],
    // Only an RSA key is recorded: an ed25519 key is new, not changed (as OpenSSH judges it).
    ['127.0.1.3', 22, keyA, 'unknown'],
    ['127.0.1.9', 22, keyA, 'unknown'],
  ];
  for (const [addr, port, key, want] of cases) {
    assert.equal(verifyHostKey(entries, addr, port, key).kind, want, `${addr}:${port}`);
  }
  assert.deepEqual(verifyHostKey(entries, '127.0.1.1', 22, keyB), { kind: 'changed', line: 2 });
});

test('a recorded line round-trips', () => {
  const line = knownHostsLine('127.0.1.7', 2200, keyA);
  assert.equal(verifyHostKey(parseKnownHosts(line), '127.0.1.7', 2200, keyA).kind, 'known');
});
