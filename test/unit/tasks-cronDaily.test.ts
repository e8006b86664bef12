import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, type FileFact, type Plan } from '../../src/index.ts';
import { cronDaily } from '../../tasks/cronDaily.ts';
import { absent, dir, file, hostView, preparePlan, templatesDir } from './fixtures.ts';

process.env['FLEETBOOK_TEMPLATES'] = templatesDir;

const host = hostView({ vars: { dir: '/srv/app' } });
const SCRIPT = '#!/bin/sh\nexec /usr/local/bin/backup\n';

async function plan(
  params: Parameters<typeof cronDaily>[0],
  opts: { job?: FileFact; cron?: boolean } = {},
): Promise<Plan> {
  return preparePlan(
    cronDaily(params),
    (q) => {
      if (q.kind === 'file')
        return q.path === '/etc/cron.daily' ? dir(q.path) : (opts.job ?? absent(q.path));
      if (q.kind === 'packages')
        return Object.fromEntries(
          q.names.map((n) => [
            n,
            { installed: n === 'cron' && opts.cron !== false, version: null },
          ]),
        );
      return undefined;
    },
    { host, notified: false },
  );
}

test('a name run-parts would skip is refused, saying why', () => {
  assert.throws(
    () => cronDaily({ name: 'x.py', script: SCRIPT }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.source.field, 'name');
      assert.equal(
        e.describe(),
        'task cronDaily "x.py": name must contain only letters, digits, underscore and hyphen (run-parts silently skips other names, so this job would never run)',
      );
      return true;
    },
  );
  assert.throws(() => cronDaily({ name: 'my job', script: SCRIPT }), /run-parts silently skips/);
  assert.doesNotThrow(() => cronDaily({ name: 'backup_app-2', script: SCRIPT }));
});

test('the script must start with #!', async () => {
  assert.throws(
    () => cronDaily({ name: 'backup', script: 'tar czf x /srv\n' }),
    /script: script must start with "#!"/,
  );
  await assert.rejects(
    cronDaily({ name: 'backup', template: 'no-shebang.ejs' }).prepare(host),
    /template: the rendered template no-shebang\.ejs must start with "#!"/,
  );
  await assert.rejects(
    cronDaily({ name: 'backup', src: 'test/fixtures/templates/null-value.ejs.txt' }).prepare(host),
    /src: cannot read local file test\/fixtures\/templates\/null-value\.ejs\.txt \(no such file/,
  );
});

test('exactly one of script, src and template; vars only with template; unknown fields', () => {
  assert.throws(
    () => cronDaily({ name: 'backup', script: SCRIPT, template: 'backup-job.ejs' }),
    /give only one of script, src or template, not script and template/,
  );
  assert.throws(
    () => cronDaily({ name: 'backup' }),
    /script: give script, src or template; none was given/,
  );
  assert.throws(
    () => cronDaily({ name: 'backup', script: SCRIPT, vars: { a: 1 } }),
    /vars: not allowed when script is given/,
  );
  // src means what it means in every task (a file copied as it is); a template is `template`.
  assert.throws(
    () => cronDaily({ name: 'backup', src: 'backup-job.ejs' }),
    /src: backup-job\.ejs is a template, and src is a file copied as it is \(as in copyFile\): give it as template/,
  );
  assert.throws(
    // @ts-expect-error a misspelled parameter must not compile (and fails validation at run time)
    () => cronDaily({ name: 'backup', scirpt: SCRIPT }),
    /scirpt: unknown field \(did you mean "script"\?\)/,
  );
});

test('new job -> write /etc/cron.daily/NAME root 0755 with a file diff', async () => {
  const p = await plan({ name: 'backup', script: SCRIPT });
  assert.equal(p.status, 'change');
  if (p.status !== 'change') return;
  const c = p.changes[0];
  assert.equal(c?.summary, 'create file /etc/cron.daily/backup (0755 root:root)');
  assert.deepEqual(c?.steps, [
    {
      op: 'write',
      path: '/etc/cron.daily/backup',
      content: Buffer.from(SCRIPT),
      mode: '0755',
      owner: 'root',
      group: 'root',
    },
  ]);
  assert.ok(
    c?.diff[0]?.kind === 'file' && c.diff[0].unified.includes('+exec /usr/local/bin/backup'),
  );
});

test('from a file on the controller, copied as it is', async () => {
  const p = await plan({ name: 'backup', src: 'test/fixtures/files/backup-job.sh' });
  const step = p.status === 'change' ? p.changes[0]?.steps[0] : undefined;
  assert.ok(step?.op === 'write');
  assert.equal(step.content.toString(), '#!/bin/sh\nexec /usr/local/bin/backup --daily\n');
});

test('from a template with host vars', async () => {
  const p = await plan({
    name: 'backup',
    template: 'backup-job.ejs',
    vars: { dir: '/srv/shop' },
  });
  const step = p.status === 'change' ? p.changes[0]?.steps[0] : undefined;
  assert.ok(step?.op === 'write');
  assert.equal(
    step.content.toString(),
    '#!/bin/sh\n# daily backup of /srv/shop\ntar -czf /var/backups/app.tgz /srv/shop\n',
  );
});

test('already in place -> ok', async () => {
  const job = file('/etc/cron.daily/backup', SCRIPT, { mode: '0755' });
  assert.deepEqual(await plan({ name: 'backup', script: SCRIPT }, { job }), { status: 'ok' });
  const p = await plan({ name: 'backup', script: SCRIPT }, { job: { ...job, mode: '0644' } });
  assert.deepEqual(p.status === 'change' && p.changes[0]?.diff, [
    {
      kind: 'attr',
      subject: '/etc/cron.daily/backup',
      field: 'mode',
      before: '0644',
      after: '0755',
    },
  ]);
});

test('no cron daemon installed -> fail (the job would never run)', async () => {
  const p = await plan({ name: 'backup', script: SCRIPT }, { cron: false });
  assert.equal(p.status, 'fail');
  assert.match(
    p.status === 'fail' ? p.message : '',
    /^no cron daemon is installed \(none of anacron, bcron, cron, cronie, systemd-cron\), so \/etc\/cron\.daily\/backup would never run/,
  );
});
