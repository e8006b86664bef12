// playbooks/django-production.ts with one more task at the end that fails after printing the
// lines that hold the secrets: the secret canary test proves that not even a failing task's
// output lets them through, and that the rollback puts the host back.
import main from '../../../playbooks/django-production.ts';
import type { Playbook } from 'fleetbook';
import { command } from 'fleetbook/tasks';

const fail = command({
  run: "{ grep -h '^SECRET_KEY' /etc/opt/fbdemo/settings.py; cat /etc/dma/auth.conf; echo 'forced failure'; } >&2; exit 1",
  always: true,
  describe: 'forced failure (prints the SECRET_KEY line and auth.conf first)',
});

const playbook: Playbook = {
  ...main,
  name: `${main.name} + forced failure`,
  contentsFor: (host) => {
    const play = main.contentsFor(host);
    return { ...play, tasks: [...play.tasks, fail] };
  },
};

export default playbook;
