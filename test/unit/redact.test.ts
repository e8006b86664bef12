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

test('every form a secret takes is masked: URL, base64 of user:secret, double JSON, shell-quoted, cut short', async () => {
  const secret = "CANARY2-b41d'c9x/+=&";
  const r = new Redactor();
  r.add(secret);
  const { shq } = await import('../../src/core/shell.ts');
  const { truncate } = await import('../../src/core/secret-mask.ts');
  const forms = [
    `https://deploy:${encodeURIComponent(secret)}@repo.example/`,
    `q=${encodeURIComponent(secret).replace(/%20/g, '+')}`,
    ...['a', 'ab', 'abc'].map(
      (u) => `Authorization: Basic ${Buffer.from(`${u}:${secret}`).toString('base64')}`,
    ),
    JSON.stringify(JSON.stringify({ message: `token ${secret}` })),
    `curl -u x:${shq(secret)} http://h/`,
  ];
  for (const f of forms) {
    const out = r.redact(f);
    assert.ok(out.includes('********'), `not masked: ${f}`);
    assert.ok(!out.includes('CANARY2'), out);
  }
  // A title cut at 57 characters is cut after masking: no half of the secret is left.
  const title = truncate(`curl -H 'X-Token: ${secret}' https://api.example/deploy/now/please`, 40);
  assert.ok(!title.includes('CANARY2'), title);
  assert.ok(!title.includes('CANARY2-b4'), title);
});
