import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from '../../src/reporter/redact.ts';

test('a secret is masked in its plain, escaped and base64 forms', () => {
  const r = new Redactor();
  const secret = `pa"ss\\wo'rd-canary`;
  r.add(secret);
  const texts = [
    `password=${secret}`,
    JSON.stringify({ line: `PASSWORD = '${secret}'` }),
    `PASSWORD = '${secret.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`,
    `AUTH PLAIN ${Buffer.from(secret).toString('base64')}`,
  ];
  for (const t of texts) {
    const out = r.redact(t);
    assert.ok(out.includes('********'), out);
    assert.ok(
      !out.includes('canary') && !out.includes(Buffer.from(secret).toString('base64').slice(0, 12)),
      out,
    );
  }
  assert.equal(r.redact('nothing secret here'), 'nothing secret here');
});

test('short values are not treated as secrets (they would mask ordinary words)', () => {
  const r = new Redactor();
  r.add('abc');
  assert.equal(r.redact('abc def'), 'abc def');
});
