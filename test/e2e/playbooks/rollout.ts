// A light playbook for rollout tests: a file, an optional slow step, a failure on FB_FAIL_HOSTS.
import { definePlaybook } from 'fleetbook';
import { command, copyFile } from 'fleetbook/tasks';

const failOn = (process.env.FB_FAIL_HOSTS ?? '').split(',');
const slow = Number(process.env.FB_SLOW_SECONDS ?? '0');

export default definePlaybook({
  name: 'rollout',
  hosts: 'all',
  tasks: (host) => [
    copyFile({
      content: `rollout ${process.env.FB_TAG ?? 'a'}\n`,
      dest: '/var/tmp/fb-rollout.txt',
    }),
    slow > 0 &&
      command({
        run: `sleep ${slow}`,
        unless: `test -e /var/tmp/fb-rollout-slept`,
        describe: 'a slow step',
      }),
    slow > 0 && copyFile({ content: 'slept\n', dest: '/var/tmp/fb-rollout-slept' }),
    failOn.includes(host.name) &&
      command({ run: 'exit 1', always: true }, { name: 'fail on purpose' }),
  ],
});
