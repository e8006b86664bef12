// For the --list-* and --syntax-check tests: tags, a handler, a task only some hosts get, a secret.
import { definePlaybook, Type } from 'fleetbook';
import { copyFile, ensureDir, serviceRestart } from 'fleetbook/tasks';

export default definePlaybook({
  name: 'inspect',
  hosts: 'all',
  varsSchema: Type.Object({ workers: Type.Integer({ minimum: 1 }) }),
  vars: { workers: 1 },
  secrets: { api_token: { operator: { description: 'a token the site uses' } } },
  tasks: (host) => [
    ensureDir({ path: '/srv/site', mode: '0755' }, { tags: ['files'] }),
    copyFile(
      {
        dest: '/srv/site/workers',
        content: `${String(host.vars.workers)} ${host.secrets.api_token}\n`,
      },
      { tags: ['config'], notify: ['restart site'] },
    ),
    host.groups.includes('web') && ensureDir({ path: '/srv/web' }, { name: 'web root' }),
  ],
  handlers: [serviceRestart({ name: 'cron' }, { name: 'restart site' })],
});
