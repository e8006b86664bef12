// Type tests, checked by `tsc --noEmit` in `npm test`: each @ts-expect-error line must stay an error.
import { definePlaybook, Type } from '../../src/index.ts';
import { ensureDir, templateFile } from '../../tasks/index.ts';

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
