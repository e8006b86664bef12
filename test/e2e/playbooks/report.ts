// The run the report test reads: on every host a file carrying the secret `canary` (its diff is
// masked), a plain file (its diff is the text a person looks for), then a step that fails on the
// host named by FB_FAIL_ON only, so that host rolls back and the others go on.
import { definePlaybook } from 'fleetbook';
import { command, copyFile, ensureDir, templateFile } from 'fleetbook/tasks';

export default definePlaybook({
  name: 'report',
  hosts: 'all',
  secrets: { canary: { generate: { length: 24 } } },
  tasks: (host) => [
    ensureDir({ path: '/srv/fb-report' }),
    templateFile({
      src: 'canary.ejs',
      dest: '/srv/fb-report/secret.conf',
      vars: { secret: host.secrets.canary },
    }),
    copyFile({ content: 'colour = blue\nworkers = 4\n', dest: '/srv/fb-report/app.conf' }),
    command(
      {
        run:
          host.name === process.env.FB_FAIL_ON ? 'echo "refused: disk full" >&2; exit 1' : 'true',
        always: true,
      },
      { name: 'check the disk' },
    ),
    copyFile({ content: 'done\n', dest: '/srv/fb-report/done' }),
  ],
});
