// The reference deployment's roles, prepared on the controller as a run prepares them: their
// templates come from the roles' own directories and render what the vars say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConfigError, definePlaybook, type HostFacts, type TaskEntry } from '../../src/index.ts';
import { resolveInventory } from '../../src/inventory/load.ts';
import { hostView, prepareTasks } from '../../src/runner/prepare.ts';
import { djangoApp } from '../../roles/django-app/index.ts';
import { mtaDma } from '../../roles/mta-dma/index.ts';
import { mtaPostfix } from '../../roles/mta-postfix/index.ts';

const inv = resolveInventory(
  { environment: 'staging', hosts: { web1: { address: '192.0.2.10' } } },
  'inventories/staging.yaml',
);
const web1 = inv.hosts.find((h) => h.name === 'web1') ?? assert.fail('the inventory has web1');

// a lab host's facts, with a qualified name
const facts = {
  ...(JSON.parse(
    readFileSync(new URL('../fixtures/facts/debian12-nspawn.json', import.meta.url), 'utf8'),
  ) as HostFacts),
  fqdn: 'web1.example.org',
};

/** Every prepared file of the play by its path (templateFile, copyFile, postfixMap). */
async function rendered(tasks: readonly TaskEntry[]): Promise<Map<string, string>> {
  const pb = definePlaybook({ name: 'roles', hosts: 'all', facts: true, tasks });
  const view = { ...hostView(pb, inv, web1, {}), facts };
  const host = await prepareTasks(pb, 'playbooks/roles.ts', view, web1, {});
  const out = new Map<string, string>();
  for (const { task, prepared } of host.tasks) {
    const p = task.params as { dest?: string; path?: string };
    const content = (prepared as { content?: string | Buffer } | undefined)?.content;
    const where = p.dest ?? p.path;
    if (content !== undefined && where !== undefined) out.set(where, content.toString());
  }
  return out;
}

const mail = (port: 587 | 465) => ({
  smarthost: { host: 'smtp.example.org', port, user: 'relay' },
  password: 'a-smarthost-password',
  mailname: 'www.example.org',
  rootMailTo: 'ops@example.org',
  localUsers: ['fbdemo'],
  verifyTo: 'ops@example.org',
});

test('mta-dma: STARTTLS on 587, implicit TLS on 465; the password in auth.conf; root mail to the admins', async () => {
  const f = await rendered([mtaDma(mail(587))]);
  assert.match(
    f.get('/etc/dma/dma.conf') ?? '',
    /^SMARTHOST smtp\.example\.org\nPORT 587\n[\s\S]*^STARTTLS$/m,
  );
  assert.equal(f.get('/etc/dma/auth.conf'), 'relay|smtp.example.org:a-smarthost-password\n');
  assert.match(f.get('/etc/aliases') ?? '', /^root: ops@example\.org\nfbdemo: root\n$/m);
  assert.equal(f.get('/etc/mailname'), 'www.example.org\n');
  const tls = await rendered([mtaDma(mail(465))]);
  assert.doesNotMatch(tls.get('/etc/dma/dma.conf') ?? '', /^STARTTLS$/m);
});

test("the mail name defaults to the host's FQDN, from its facts, in both MTA roles", async () => {
  const { smarthost, password, rootMailTo, localUsers, verifyTo } = mail(587);
  const unnamed = { smarthost, password, rootMailTo, localUsers, verifyTo };
  const dma = await rendered([mtaDma(unnamed)]);
  assert.equal(dma.get('/etc/mailname'), 'web1.example.org\n');
  const postfix = await rendered([mtaPostfix(unnamed)]);
  assert.equal(postfix.get('/etc/mailname'), 'web1.example.org\n');
  assert.match(
    postfix.get('/etc/postfix/main.cf') ?? '',
    /root@web1\.example\.org = ops@example\.org/,
  );
});

test('mta-postfix: a satellite relaying to [smarthost]:port with SASL; wrapper mode only on 465', async () => {
  const f = await rendered([mtaPostfix(mail(465))]);
  const main = f.get('/etc/postfix/main.cf') ?? '';
  assert.match(main, /^relayhost = \[smtp\.example\.org\]:465$/m);
  assert.match(main, /^myhostname = web1\.example\.org$/m, "the host's FQDN, from its facts");
  assert.match(main, /root@www\.example\.org = ops@example\.org/);
  assert.match(main, /^smtp_tls_wrappermode = yes$/m);
  assert.equal(
    f.get('/etc/postfix/sasl_passwd'),
    '[smtp.example.org]:465 relay:a-smarthost-password\n',
  );
  assert.match(f.get('/etc/aliases') ?? '', /^fbdemo: root$/m);
  const submission = await rendered([mtaPostfix(mail(587))]);
  assert.match(submission.get('/etc/postfix/main.cf') ?? '', /^smtp_tls_wrappermode = no$/m);
});

test('django-app: settings with DEBUG off, the hosts, the key and the admins; the code from `code`', async () => {
  const f = await rendered([
    djangoApp({
      project: 'fbdemo',
      code: 'playbooks/files/fbdemo',
      domain: 'www.example.org',
      admins: [{ name: 'Ops', email: 'ops@example.org' }],
      secretKey: 'k'.repeat(64),
      mta: 'dma',
    }),
  ]);
  const settings = f.get('/etc/opt/fbdemo/settings.py') ?? '';
  assert.match(settings, /^DEBUG = False$/m);
  assert.match(settings, /^ALLOWED_HOSTS = \["www\.example\.org"\]$/m);
  assert.match(settings, new RegExp(`^SECRET_KEY = "${'k'.repeat(64)}"$`, 'm'));
  assert.match(settings, /^ADMINS = \[\("Ops", "ops@example\.org"\)\]$/m);
  assert.match(f.get('/etc/systemd/system/fbdemo.service') ?? '', /--workers 2\b/);
  assert.match(
    f.get('/usr/local/sbin/restart-fbdemo') ?? '',
    /^systemctl restart fbdemo\.service$/m,
  );
  assert.ok(f.has('/opt/fbdemo/manage.py'), 'the code is copied');
  assert.throws(
    () =>
      djangoApp({
        project: 'fbdemo',
        code: '.',
        domain: 'x',
        admins: [],
        secretKey: 'short',
        mta: 'dma',
      }),
    (e: unknown) =>
      e instanceof ConfigError &&
      /^role django-app: invalid:\n {2}admins: .*\n {2}secretKey: .*fewer than 50/.test(
        e.describe(),
      ),
  );
});
