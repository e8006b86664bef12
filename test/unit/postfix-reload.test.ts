import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postfixReload } from '../../roles/mta-postfix/tasks.ts';
import { sha256 } from '../../src/index.ts';
import { file, planFrom, service } from './fixtures.ts';

test('postfixReload: its stamp is a file the runner writes (and restores on rollback); postfix is restarted again after a rollback', () => {
  const main = 'relayhost = [127.0.0.1]:465\n';
  const master = 'pickup unix n - y 60 1 pickup\n';
  const p = planFrom(postfixReload({}), undefined, (q) =>
    q.kind === 'service'
      ? service('postfix')
      : q.kind === 'file'
        ? q.path === '/etc/postfix/main.cf'
          ? file(q.path, main, {}, 'none')
          : q.path === '/etc/postfix/master.cf'
            ? file(q.path, master, {}, 'none')
            : file(q.path, 'an older stamp\n')
        : undefined,
  );
  assert.equal(p.status, 'change');
  if (p.status !== 'change') return;
  const [c] = p.changes;
  const write = c?.steps.find((s) => s.op === 'write');
  assert.ok(write?.op === 'write');
  assert.equal(write.path, '/var/lib/fleetbook-postfix.loaded');
  assert.equal(
    write.content.toString(),
    `${sha256(main)}  /etc/postfix/main.cf\n${sha256(master)}  /etc/postfix/master.cf\n`,
  );
  // No shell redirect writes the stamp behind the runner's back.
  for (const s of c?.steps ?? []) if (s.op === 'run') assert.doesNotMatch(s.script.text, />/);
  assert.match(
    c?.afterUndo?.[0]?.op === 'run' ? c.afterUndo[0].script.text : '',
    /systemctl restart postfix/,
  );
});
