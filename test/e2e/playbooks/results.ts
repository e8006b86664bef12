// A file made from a user's result (its uid, gid and home) and the host's facts. FB_USER names
// the user; FB_FAIL=1 adds a failing command at the end, for the rollback.
import { definePlaybook, withResult } from 'fleetbook';
import { command, copyFile, ensureUser } from 'fleetbook/tasks';

export default definePlaybook({
  name: 'results',
  hosts: 'all',
  facts: true,
  tasks: (host) => {
    const name = process.env.FB_USER ?? 'fbresult';
    const user = ensureUser({ name, home: `/var/opt/${name}` });
    return [
      user,
      withResult(user, (u) =>
        copyFile({
          dest: `/etc/fb-${name}.conf`,
          content: `uid=${u.uid}\ngid=${u.gid}\nhome=${u.home}\nfqdn=${host.facts.fqdn}\n`,
        }),
      ),
      process.env.FB_FAIL === '1' && command({ run: 'exit 3', describe: 'fail', always: true }),
    ];
  },
});
