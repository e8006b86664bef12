// The README's examples, type-checked by `tsc` (test/unit/readme.test.ts keeps them identical).
// playbooks/site.ts
import { definePlaybook, Type } from 'fleetbook';
import {
  aptInstall,
  ensureDir,
  ensureUser,
  templateFile,
  cronDaily,
  serviceRestart,
} from 'fleetbook/tasks';

export default definePlaybook({
  name: 'site',
  hosts: 'web', // group, host, glob ("web*"), or "all"
  // Vars the playbook reads: checked for every host before any connection.
  varsSchema: Type.Object({ domain: Type.String(), workers: Type.Integer({ minimum: 1 }) }),
  vars: { workers: 2 }, // defaults; inventory vars override them
  tasks: (host) => [
    aptInstall({ packages: ['nginx'] }),
    ensureUser({ name: 'app' }),
    ensureDir({ path: '/var/cache/app', owner: 'app', group: 'app', mode: '0750' }),
    templateFile(
      {
        src: 'nginx-site.conf.ejs',
        dest: '/etc/nginx/sites-enabled/app',
        vars: { workers: host.vars.workers },
      },
      { notify: ['reload nginx'] },
    ),
    host.environment === 'production' &&
      cronDaily({
        name: 'app-cleanup',
        script: '#!/bin/sh\nfind /var/cache/app -mtime +7 -delete\n',
      }),
  ],
  handlers: [serviceRestart({ name: 'nginx', action: 'reload' }, { name: 'reload nginx' })],
});
