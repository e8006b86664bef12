// For the ProxyJump test: one file written on the host, so the test can see the run reached it.
import { definePlaybook } from 'fleetbook';
import { copyFile } from 'fleetbook/tasks';

export default definePlaybook({
  name: 'jump',
  hosts: 'all',
  tasks: () => [
    copyFile({ dest: '/root/reached-through-jump', content: 'reached\n', mode: '0644' }),
  ],
});
