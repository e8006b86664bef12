// A playbook with one more task at the end that fails: the run changes everything the playbook
// changes, then fails, so its automatic rollback has all of it to undo.
import type { Playbook } from 'fleetbook';
import { command } from 'fleetbook/tasks';

export function failingAtEnd(
  main: Playbook,
  script = "echo 'forced failure' >&2; exit 1",
): Playbook {
  const fail = command({ run: script, always: true, describe: 'forced failure' });
  return {
    ...main,
    name: `${main.name} + forced failure`,
    contentsFor: (host) => {
      const play = main.contentsFor(host);
      return { ...play, tasks: [...play.tasks, fail] };
    },
  };
}
