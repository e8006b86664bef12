// The six built-in tasks together: a host that relays its mail through the lab smarthost.
import { definePlaybook, Type } from 'fleetbook';
import {
  aptInstall,
  cronDaily,
  ensureDir,
  serviceRestart,
  templateFile,
  verifyMail,
} from 'fleetbook/tasks';

export default definePlaybook({
  name: 'six tasks',
  hosts: 'all',
  varsSchema: Type.Object({
    smarthost: Type.Object({ host: Type.String(), port: Type.Integer(), user: Type.String() }),
  }),
  secrets: { smarthost_password: { operator: { description: 'the lab smarthost password' } } },
  tasks: (host) => [
    aptInstall({
      packages: ['dma'],
      preseed: [
        {
          package: 'dma',
          question: 'dma/mailname',
          type: 'string',
          value: `${host.name}.lab.example`,
        },
      ],
    }),
    templateFile({ src: 'dma.conf.ejs', dest: '/etc/dma/dma.conf' }),
    templateFile({
      src: 'auth.conf.ejs',
      dest: '/etc/dma/auth.conf',
      group: 'mail',
      mode: '0640',
      sensitive: true,
      vars: { password: host.secrets.smarthost_password },
    }),
    ensureDir({ path: '/var/log/fb-six', owner: 'daemon', group: 'adm', mode: '2750' }),
    cronDaily(
      { name: 'fb-six-report', script: '#!/bin/sh\ndate >> /var/log/fb-six/daily.log\n' },
      { notify: ['restart cron'] },
    ),
    verifyMail({ to: `ops+${host.name}@example.org`, timeoutSeconds: 60 }, { tags: ['mail'] }),
  ],
  handlers: [serviceRestart({ name: 'cron' }, { name: 'restart cron' })],
});
