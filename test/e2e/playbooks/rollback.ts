// A playbook whose 5th task fails on the hosts listed in FB_FAIL_HOSTS ("all" for every host).
import { definePlaybook } from 'fleetbook';
import {
  aptInstall,
  command,
  copyFile,
  ensureDir,
  serviceRestart,
  templateFile,
} from 'fleetbook/tasks';

const failOn = (process.env.FB_FAIL_HOSTS ?? '').split(',');
const tag = process.env.FB_TAG ?? 'one';

export default definePlaybook({
  name: 'rollback',
  hosts: 'all',
  tasks: (host) => [
    copyFile({
      content: `managed by fleetbook (${tag})\n`,
      dest: '/etc/fb-rb/existing.conf',
      mode: '0600',
      owner: 'root',
      group: 'root',
    }),
    ensureDir({ path: '/srv/fb-rb/created/deeper', mode: '0750' }),
    // jq brings two libraries with it, automatically installed: the undo purges them too
    aptInstall({ packages: ['jq'] }),
    serviceRestart({ name: 'cron', force: true }),
    (failOn.includes(host.name) || failOn.includes('all')) &&
      command(
        { run: 'echo "failing on purpose" >&2; exit 3', always: true },
        { name: 'fail on purpose' },
      ),
    process.env.FB_VALIDATE === 'fail' &&
      templateFile(
        {
          src: 'site.conf.ejs',
          dest: '/etc/fb-rb/validated.conf',
          vars: { domain: 'x', upstream: 'y' },
          validate: 'grep -q never-there %s',
        },
        { notify: ['restart cron'] },
      ),
  ],
  handlers: [serviceRestart({ name: 'cron' }, { name: 'restart cron' })],
});
