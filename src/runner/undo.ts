import { errorMessage } from '../core/errors.ts';
import type { UndoRecord } from './journal.ts';
import { describeUndo, type RecordedRunStep, type Remote } from './remote.ts';

export interface UndoReport {
  readonly step: string;
  readonly ok: boolean;
  /** Left alone on purpose (the file changed since the run wrote it). */
  readonly skipped?: boolean;
  readonly message?: string;
}

/**
 * Undo a host's recorded changes from the last record to the first, then replay `afterUndo`
 * (restarts) so services run with the restored files. A file is restored only if it is still what
 * the run wrote; one edited since is left alone and reported. With `check`, only reads and reports.
 */
export async function undoChanges(
  remote: Remote,
  undo: readonly UndoRecord[],
  afterUndo: readonly RecordedRunStep[],
  check: boolean,
  report: (r: UndoReport) => void,
): Promise<boolean> {
  let allOk = true;
  const would = (what: string): string => (check ? `would ${what}` : what);
  for (const step of [...undo].reverse()) {
    const what = describeUndo(step);
    try {
      if (step.op === 'restore') {
        const res = await remote.restore(step, check);
        if (res === 'left-alone') {
          allOk = false;
          report({
            step: what,
            ok: false,
            skipped: true,
            message: `left alone: ${step.path} changed since this run wrote it`,
          });
        } else if (res === 'no-backup') {
          allOk = false;
          report({
            step: what,
            ok: false,
            message: `the backup of ${step.path} is gone from the host (pruned: see --keep-backups)`,
          });
        } else if (res === 'unchanged') {
          report({ step: `${what}: unchanged (the run's write never landed)`, ok: true });
        } else {
          report({ step: would(res === 'removed' ? `remove ${step.path}` : what), ok: true });
        }
        continue;
      }
      if (!check) await remote.run(step);
      report({ step: would(what), ok: true });
    } catch (err) {
      allOk = false;
      report({ step: what, ok: false, message: errorMessage(err) });
    }
  }
  for (const step of afterUndo) {
    try {
      if (!check) await remote.run(step);
      report({ step: would(step.describe), ok: true });
    } catch (err) {
      allOk = false;
      report({ step: step.describe, ok: false, message: errorMessage(err) });
    }
  }
  return allOk;
}
