// A unit of our own, started and enabled by ensureService; with FB_FAIL=1 a later task fails.
import { definePlaybook } from 'fleetbook';
import { command, copyFile, ensureService } from 'fleetbook/tasks';

export default definePlaybook({
  name: 'service',
  hosts: 'all',
  tasks: [
    copyFile({
      content:
        '[Unit]\nDescription=fleetbook e2e\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n',
      dest: '/etc/systemd/system/fb-sleep.service',
    }),
    ensureService({ name: 'fb-sleep', state: 'started', enabled: true }),
    process.env.FB_FAIL === '1' &&
      command({ run: 'exit 3', always: true }, { name: 'fail on purpose' }),
  ],
});
