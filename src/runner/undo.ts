import { errorMessage, TaskFailure } from '../core/errors.ts';
import { raw, sh } from '../core/shell.ts';
import type { UndoRecord } from './journal.ts';
import { describeUndo, type RecordedRunStep, type Remote } from './remote.ts';

export interface UndoReport {
  readonly step: string;
  readonly ok: boolean;
  /** Left alone on purpose (the file changed since the run wrote it, a guard said no). */
  readonly skipped?: boolean;
  readonly message?: string;
}

/** What an undo needs of a host (a Remote; a scripted one in tests). */
export type UndoHost = Pick<Remote, 'exec' | 'run' | 'restore' | 'remove'>;

/**
 * What every `onlyIf` check starts with: `fb_gone PATH`, true when PATH or a directory above it is
 * in the list on stdin (what earlier steps of a `rollback --check` would take away; empty in a
 * real rollback, where they are really gone). See src/core/undo-guards.ts.
 */
export const ONLY_IF_PRELUDE = sh`fb_gone_f=$(mktemp) || exit 1
trap 'rm -f -- "$fb_gone_f"' EXIT
cat > "$fb_gone_f"
fb_gone() {
  [ -s "$fb_gone_f" ] || return 1
  fb_p=$1
  while :; do
    grep -qxF -- "$fb_p" "$fb_gone_f" && return 0
    case "$fb_p" in */?*) fb_p=\${fb_p%/*} ;; *) return 1 ;; esac
  done
}
`;

/** A rollback's walk over a host's records, in check mode keeping what earlier steps take away. */
class UndoWalk {
  allOk = true;
  private readonly gone: string[] = [];

  constructor(
    private readonly remote: UndoHost,
    private readonly check: boolean,
    private readonly report: (r: UndoReport) => void,
  ) {}

  private would(what: string): string {
    return this.check ? `would ${what}` : what;
  }

  /** Check mode: what an earlier step would take away (a real rollback has taken it). */
  private taken(paths: readonly string[]): void {
    if (this.check) this.gone.push(...paths);
  }

  private fail(r: Omit<UndoReport, 'ok'>): void {
    this.allOk = false;
    this.report({ ...r, ok: false });
  }

  /** Undefined when the step may run; else why not, as its `onlyIf` printed it. */
  private async refused(step: RecordedRunStep): Promise<string | undefined> {
    if (step.onlyIf === undefined) return undefined;
    const res = await this.remote.exec(sh`${ONLY_IF_PRELUDE}${raw(step.onlyIf)}`, {
      stdin: this.gone.map((p) => `${p}\n`).join(''),
    });
    return res.code === 0 ? undefined : res.stdout.trim() || `its check exited ${res.code}`;
  }

  async undo(step: UndoRecord): Promise<void> {
    const what = describeUndo(step);
    if (step.op === 'restore') {
      const res = await this.remote.restore(step, this.check);
      if (res === 'left-alone')
        this.fail({
          step: what,
          skipped: true,
          message: `left alone: ${step.path} changed since this run wrote it`,
        });
      else if (res === 'no-backup')
        this.fail({
          step: what,
          message: `the backup of ${step.path} is gone from the host (pruned: see --keep-backups)`,
        });
      else if (res === 'unchanged')
        this.report({ step: `${what}: unchanged (the run's write never landed)`, ok: true });
      else {
        if (res === 'removed') this.taken([step.path]);
        this.report({
          step: this.would(res === 'removed' ? `remove ${step.path}` : what),
          ok: true,
        });
      }
      return;
    }
    if (step.op === 'remove') {
      const kept = this.check || (await this.remote.remove(step.path, step.backup));
      this.taken([step.path]);
      this.report({ step: kept ? this.would(what) : `${what}: already absent`, ok: true });
      return;
    }
    const why = await this.refused(step);
    // Skipped rather than run into a failure halfway: what it depends on is still there.
    if (why !== undefined) {
      this.fail({ step: what, skipped: true, message: `skipped: ${why}` });
      return;
    }
    if (!this.check) await this.remote.run(step);
    else if (step.removes !== undefined)
      this.taken((await this.remote.exec(step.removes)).stdout.split('\n').filter(Boolean));
    this.report({ step: this.would(what), ok: true });
  }

  /** A replay skipped by its guard is no failure: what it would restart is gone. */
  async replay(step: RecordedRunStep): Promise<void> {
    const why = await this.refused(step);
    if (why !== undefined) {
      this.report({ step: `${step.describe}: ${this.would('skip')} (${why})`, ok: true });
      return;
    }
    if (!this.check) await this.remote.run(step);
    this.report({ step: this.would(step.describe), ok: true });
  }
}

/**
 * Undo a host's recorded changes from the last record to the first, then replay `afterUndo`
 * (restarts) so services run with the restored files. A file is restored only if it is still what
 * the run wrote; one edited since is left alone and reported; a step whose `onlyIf` check says no
 * is skipped with its reason. With `check`, only reads and reports: the plan a real rollback
 * follows.
 */
export async function undoChanges(
  remote: UndoHost,
  undo: readonly UndoRecord[],
  afterUndo: readonly RecordedRunStep[],
  check: boolean,
  report: (r: UndoReport) => void,
): Promise<boolean> {
  const walk = new UndoWalk(remote, check, report);
  for (const step of [...undo].reverse()) {
    try {
      await walk.undo(step);
    } catch (err) {
      walk.allOk = false;
      report({ step: describeUndo(step), ok: false, message: failureLine(err) });
    }
  }
  for (const step of afterUndo) {
    try {
      await walk.replay(step);
    } catch (err) {
      walk.allOk = false;
      report({ step: step.describe, ok: false, message: failureLine(err) });
    }
  }
  return walk.allOk;
}

/** A failed undo step's message, with the last line its script printed on stderr: what it left. */
function failureLine(err: unknown): string {
  const last =
    err instanceof TaskFailure
      ? (err.details ?? '')
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== '')
          .at(-1)
      : undefined;
  return last === undefined ? errorMessage(err) : `${errorMessage(err)} (${last})`;
}
