// Type tests, checked by `tsc --noEmit` in `npm test`: each @ts-expect-error line must stay an error.
import { definePlaybook, defineRole, Type, withResult, type ResultOf } from '../../src/index.ts';
import { command, ensureDir, ensureUser, templateFile } from '../../tasks/index.ts';

export const typed = definePlaybook({
  name: 'types',
  hosts: 'all',
  varsSchema: Type.Object({ domain: Type.String(), workers: Type.Integer() }),
  vars: { workers: 2 },
  secrets: { api_token: { operator: { description: 'token' } } },
  tasks: (host) => [
    templateFile({
      src: 'x.ejs',
      dest: '/etc/x',
      vars: { domain: host.vars.domain, token: host.secrets.api_token },
    }),
    // @ts-expect-error a var the schema does not declare
    ensureDir({ path: host.vars.domian as string }),
    // @ts-expect-error a secret the playbook does not declare
    ensureDir({ path: host.secrets.api_tokn as string }),
    // @ts-expect-error a misspelled task param
    ensureDir({ path: '/srv', mdoe: '0755' }),
    // @ts-expect-error a param of the wrong type
    ensureDir({ path: '/srv', mode: 755 }),
  ],
});

definePlaybook({
  name: 'bad',
  hosts: 'all',
  varsSchema: Type.Object({ workers: Type.Integer() }),
  // @ts-expect-error vars defaults must match the schema's types
  vars: { workers: 'two' },
  tasks: [],
});

// Host facts are typed where the playbook (or role) says it reads them, and absent where not.
definePlaybook({
  name: 'facts',
  hosts: 'all',
  facts: true,
  tasks: (host) => [
    host.facts.os.codename === 'bookworm' && ensureDir({ path: `/srv/${host.facts.fqdn}` }),
    host.facts.cpus > 1 && ensureDir({ path: '/srv/many' }),
    // @ts-expect-error cpus is a number
    ensureDir({ path: host.facts.cpus }),
    // @ts-expect-error a fact that does not exist
    ensureDir({ path: host.facts.os.release as string }),
  ],
});

definePlaybook({
  name: 'no facts',
  hosts: 'all',
  // @ts-expect-error without `facts: true` there are none (possibly undefined)
  tasks: (host) => [ensureDir({ path: `/srv/${host.facts.fqdn}` })],
});

defineRole({
  name: 'facts-role',
  facts: true,
  tasks: (host) => [ensureDir({ path: `/srv/${host.facts.hostname}` })],
});

// Task results are typed: what a task type gives, plus `changed`.
const cmd = command({ run: 'true', always: true });
export const commandResult: ResultOf<typeof cmd> = {
  ran: true,
  stdout: '',
  stderr: '',
  changed: false,
};
withResult(cmd, (r) => [
  r.ran && r.changed && ensureDir({ path: `/srv/${r.stdout.trim()}` }),
  // @ts-expect-error a command's result has no exit code field
  ensureDir({ path: `/srv/${String(r.code)}` }),
]);
withResult(ensureUser({ name: 'app' }), (u) => [
  ensureDir({ path: u.home, owner: String(u.uid) }),
  // @ts-expect-error uid is a number
  ensureDir({ path: u.uid }),
]);
// A task type without a result of its own still tells whether it changed the host.
withResult(ensureDir({ path: '/srv/a' }), (d) => [
  d.changed && ensureDir({ path: '/srv/b' }),
  // @ts-expect-error ensureDir gives no path back
  d.path === '/srv/a',
]);
