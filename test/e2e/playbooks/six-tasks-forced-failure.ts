// six-tasks.ts with one more task at the end that fails, for the rollback of a failed first run.
import main from './six-tasks.ts';
import { failingAtEnd } from './forced-failure.ts';

export default failingAtEnd(main);
