// What a run changes must come back exactly on rollback: a new user and its group, a setuid
// file's owner, a hard-linked file's content; and a validate sees only the new file. Which parts
// run is chosen by FB_PARTS (comma separated); FB_FAIL=1 adds a failing last task.
import { definePlaybook } from 'fleetbook';
import { command, copyFile, ensureUser } from 'fleetbook/tasks';

const parts = new Set((process.env.FB_PARTS ?? '').split(','));
const tag = process.env.FB_TAG ?? 'new';

export default definePlaybook({
  name: 'undo-writes',
  hosts: 'all',
  tasks: [
    parts.has('user') && ensureUser({ name: 'fbx' }),
    // Owner changes of a setuid file: chown clears the setuid bit, so undo must chmod after chown.
    parts.has('suid') &&
      copyFile({
        content: '#!/bin/sh\necho suid\n',
        dest: '/usr/local/bin/fb-suid',
        mode: '4755',
        owner: 'daemon',
        group: 'daemon',
      }),
    parts.has('link') && copyFile({ content: `${tag}\n`, dest: '/etc/fb-linked' }),
    // The validate looks at the file by its directory, as `postconf -c $(dirname %s)` does, and at
    // what a `conf.d/*` include would load while it runs.
    parts.has('validate') &&
      copyFile({
        content: `${tag}\n`,
        dest: '/etc/fb-conf.d/site.conf',
        validate:
          'grep -qx ' +
          tag +
          ' "$(dirname %s)/site.conf" && for f in /etc/fb-conf.d/*; do echo "$f"; done > /root/fb-glob-seen',
      }),
    parts.has('secret') && copyFile({ content: `${tag}\n`, dest: '/etc/fb-root-only/secret.conf' }),
    process.env.FB_FAIL === '1' &&
      command(
        { run: 'echo "failing on purpose" >&2; exit 3', always: true },
        { name: 'fail on purpose' },
      ),
  ],
});
