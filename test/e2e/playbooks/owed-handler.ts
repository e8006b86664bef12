// A change that notifies a restart, then (with FB_FAIL=1) a failing task before handlers run.
import { definePlaybook } from 'fleetbook';
import { command, copyFile, serviceRestart } from 'fleetbook/tasks';

export default definePlaybook({
  name: 'owed handler',
  hosts: 'all',
  tasks: [
    copyFile(
      { content: `# cron note ${process.env.FB_TAG ?? ''}\n`, dest: '/etc/default/fb-owed' },
      { notify: ['restart cron'] },
    ),
    process.env.FB_FAIL === '1' &&
      command({ run: 'exit 1', always: true }, { name: 'fail on purpose' }),
  ],
  handlers: [serviceRestart({ name: 'cron' }, { name: 'restart cron' })],
});
