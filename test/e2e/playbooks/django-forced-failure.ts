// playbooks/django-production.ts with one more task at the end that fails after printing the
// lines that hold the secrets: the secret canary test proves that not even a failing task's
// output lets them through, and that the rollback puts the host back.
import main from '../../../playbooks/django-production.ts';
import { failingAtEnd } from './forced-failure.ts';

export default failingAtEnd(
  main,
  "{ grep -h '^SECRET_KEY' /etc/opt/fbdemo/settings.py; cat /etc/dma/auth.conf; echo 'forced failure'; } >&2; exit 1",
);
