// The README's examples, type-checked by `tsc` (test/unit/readme.test.ts keeps them identical).
// playbooks/app.ts
import { definePlaybook, withResult } from 'fleetbook';
import { aptInstall, copyFile, ensureUser } from 'fleetbook/tasks';

export default definePlaybook({
  name: 'app',
  hosts: 'web',
  facts: true, // host.facts is read once per run, before the host's tasks are made
  tasks: (host) => {
    const user = ensureUser({ name: 'app' });
    return [
      host.facts.os.codename === 'bullseye' && aptInstall({ packages: ['libssl1.1'] }),
      user,
      // made once the user exists on the host: its uid is known only then
      withResult(user, (u) =>
        copyFile({
          dest: '/etc/app.env',
          content: `APP_UID=${u.uid}\nWORKERS=${host.facts.cpus * 2}\n`,
        }),
      ),
    ];
  },
});
