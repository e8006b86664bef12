import { errorMessage } from '../core/errors.ts';
import type { Step } from '../core/task.ts';
import type { UndoRecord } from './journal.ts';
import { describeUndo, type Remote } from './remote.ts';

export interface UndoReport {
  readonly step: string;
  readonly ok: boolean;
  /** Left alone on purpose (the file changed since the run wrote it). */
  readonly skipped?: boolean;
  readonly message?: string;
}

/**
 * Undo a host's recorded changes in reverse order, then replay `afterUndo` (restarts) so services
 * run with the restored files. A file is restored only if it is still what the run wrote; one
 * edited since is left alone and reported. With `check`, only reads and reports.
 */
export async function undoChanges(
  remote: Remote,
  undo: readonly UndoRecord[],
  afterUndo: readonly Step[],
  backupDir: string,
  check: boolean,
  report: (r: UndoReport) => void,
): Promise<boolean> {
  let allOk = true;
  for (const step of [...undo].reverse()) {
    const what = describeUndo(step);
    try {
      if (step.op === 'restore') {
        const now = await remote.currentSha256(step.path);
        if (now !== step.written) {
          allOk = false;
          report({
            step: what,
            ok: false,
            skipped: true,
            message: `left alone: ${step.path} changed since this run wrote it`,
          });
          continue;
        }
      }
      if (!check) await remote.runStep(step, backupDir, 'undo');
      report({ step: check ? `would ${what}` : what, ok: true });
    } catch (err) {
      allOk = false;
      report({ step: what, ok: false, message: errorMessage(err) });
    }
  }
  for (const step of afterUndo) {
    const what = describeUndo(step);
    try {
      if (!check) await remote.runStep(step, backupDir, 'undo');
      report({ step: check ? `would ${what}` : what, ok: true });
    } catch (err) {
      allOk = false;
      report({ step: what, ok: false, message: errorMessage(err) });
    }
  }
  return allOk;
}
