// Playbooks for the fault tests, chosen by FB_MODE:
// - files: four files of 1-10 MB whose content follows FB_TAG (the kill sweep);
// - hang: a file, then a command that never ends (timeoutSeconds from FB_TIMEOUT, if set);
// - slow: a file tagged FB_TAG, written after a slow step (concurrent runs);
// - canary: the secret `canary` (set with `fleetbook secret set` by the test) in a template, a
//   command and a failure.
import { definePlaybook } from 'fleetbook';
import { command, copyFile, ensureDir, templateFile } from 'fleetbook/tasks';

const mode = process.env.FB_MODE ?? 'files';
const tag = process.env.FB_TAG ?? 'old';
const timeout = process.env.FB_TIMEOUT;

/** `mb` megabytes of lines that name the tag and their number, so old and new differ throughout. */
function big(mb: number): string {
  const line = (i: number) => `${tag} ${String(i).padStart(9, '0')} ${'x'.repeat(48)}\n`;
  return Array.from({ length: Math.round((mb * 1024 * 1024) / 64) }, (_, i) => line(i)).join('');
}

export default definePlaybook({
  name: 'faults',
  hosts: 'all',
  secrets: { canary: { generate: { length: 24 } } },
  tasks: (host) => [ensureDir({ path: '/srv/fb-faults' }), ...byMode(host.secrets.canary)],
});

function byMode(secret: string) {
  switch (mode) {
    case 'files':
      return [1, 3, 6, 10].map((mb) =>
        copyFile({ content: big(mb), dest: `/srv/fb-faults/f${mb}` }),
      );
    case 'hang':
      return [
        copyFile({ content: `${tag}\n`, dest: '/srv/fb-faults/before-hang' }),
        command(
          { run: 'sleep infinity', always: true, describe: 'a command that never ends' },
          timeout !== undefined ? { timeoutSeconds: Number(timeout) } : {},
        ),
      ];
    case 'slow':
      return [
        command({ run: 'sleep 3', always: true, describe: 'a slow step' }),
        copyFile({ content: `${tag}\n`, dest: '/srv/fb-faults/slow' }),
      ];
    default: {
      return [
        templateFile({ src: 'canary.ejs', dest: '/srv/fb-faults/canary.conf', vars: { secret } }),
        command({ run: `printf '%s' "${secret}" > /dev/null; sleep 2`, always: true }),
        command(
          { run: `echo "refused: ${secret}" >&2; exit 1`, always: true },
          { name: 'fail with the canary' },
        ),
      ];
    }
  }
}
