// The rollback's walk (src/runner/undo.ts) against a scripted host: shell scripts run for real by
// /bin/sh in a temporary directory, file restores scripted. Each case is rolled back twice, with
// --check and for real, and the plan --check showed must be what the real rollback did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scriptText, sh, type Script } from '../../src/core/shell.ts';
import { undoGuards } from '../../src/core/undo-guards.ts';
import type { UndoRecord } from '../../src/runner/journal.ts';
import type { RecordedRunStep, RestoreStep } from '../../src/runner/remote.ts';
import type { RestoreResult } from '../../src/runner/host-scripts.ts';
import { recordStep } from '../../src/runner/task-run.ts';
import { undoChanges, type UndoHost, type UndoReport } from '../../src/runner/undo.ts';

/**
 * A host whose shell is the local /bin/sh. A file restore removes the file the run created, or,
 * with `existed`, puts back the one it replaced (the bytes do not matter here).
 */
function scriptedHost(existed: boolean): UndoHost {
  const exec = (script: Script | string, opts: { stdin?: string | Buffer } = {}) => {
    const r = spawnSync('/bin/sh', ['-c', scriptText(script)], {
      input: opts.stdin ?? '',
      encoding: 'utf8',
    });
    return Promise.resolve({ code: r.status ?? 255, stdout: r.stdout, stderr: r.stderr });
  };
  return {
    exec,
    run: async (step) => {
      const r = await exec(step.script, step.stdin !== undefined ? { stdin: step.stdin } : {});
      if (r.code !== 0) throw new Error(`${step.describe}: failed with exit code ${r.code}`);
      return r;
    },
    restore: (step: RestoreStep, check: boolean): Promise<RestoreResult> => {
      if (existed) return Promise.resolve('restored');
      if (!check) rmSync(step.path, { force: true });
      return Promise.resolve('removed');
    },
    remove: () => Promise.resolve(true),
  };
}

/** A run that made DIR/app, wrote DIR/app/conf in it, and restarts what DIR/app/run names. */
function run(dir: string): { undo: UndoRecord[]; afterUndo: RecordedRunStep[] } {
  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'conf'), 'x');
  const rmdir = recordStep({
    op: 'run',
    describe: `rmdir ${app}`,
    script: sh`rmdir -- ${app}`,
    onlyIf: undoGuards.emptyDir(app),
    removes: undoGuards.takes(app),
  });
  return {
    undo: [
      { ...rmdir, task: 0 },
      { op: 'restore', path: join(app, 'conf'), backup: null, written: 'x', task: 1 },
    ],
    afterUndo: [
      recordStep({
        op: 'run',
        describe: 'restart app',
        script: sh`echo restarted > ${join(dir, 'restarted')}`,
        onlyIf: undoGuards.present(join(app, 'conf')),
      }),
    ],
  };
}

interface Case {
  readonly what: string;
  /** What happened on the host after the run. */
  readonly since?: (dir: string) => void;
  /** What `rollback --check` shows. */
  readonly check: readonly string[];
  /** What the real rollback then does: the same steps. */
  readonly real: readonly string[];
  readonly ok: boolean;
  readonly appLeft: boolean;
  /** The file existed before the run (so it is restored, not removed). */
  readonly existed?: boolean;
  readonly replayed?: boolean;
}

const CASES: readonly Case[] = [
  {
    what: 'the run made the directory and the file in it: both go, and the restart is not replayed',
    check: [
      'would remove DIR/app/conf',
      'would rmdir DIR/app',
      'restart app: would skip (DIR/app/conf is gone)',
    ],
    real: ['remove DIR/app/conf', 'rmdir DIR/app', 'restart app: skip (DIR/app/conf is gone)'],
    ok: true,
    appLeft: false,
  },
  {
    what: 'something else was put in the directory since: the rmdir is skipped, naming it',
    since: (dir) => {
      writeFileSync(join(dir, 'app', 'other'), 'y');
    },
    check: [
      'would remove DIR/app/conf',
      'rmdir DIR/app: SKIPPED: DIR/app is not empty: it holds DIR/app/other',
      'restart app: would skip (DIR/app/conf is gone)',
    ],
    real: [
      'remove DIR/app/conf',
      'rmdir DIR/app: SKIPPED: DIR/app is not empty: it holds DIR/app/other',
      'restart app: skip (DIR/app/conf is gone)',
    ],
    ok: false,
    appLeft: true,
  },
  {
    what: 'the file existed before: it is restored, the directory stays, and the restart is replayed',
    existed: true,
    check: [
      'would restore DIR/app/conf',
      'rmdir DIR/app: SKIPPED: DIR/app is not empty: it holds DIR/app/conf',
      'would restart app',
    ],
    real: [
      'restore DIR/app/conf',
      'rmdir DIR/app: SKIPPED: DIR/app is not empty: it holds DIR/app/conf',
      'restart app',
    ],
    ok: false,
    appLeft: true,
    replayed: true,
  },
];

function shown(r: UndoReport, dir: string): string {
  const line = r.ok
    ? r.step
    : `${r.step}: ${r.skipped === true ? 'SKIPPED' : 'FAILED'}: ${r.message?.replace(/^skipped: /, '') ?? ''}`;
  return line.replaceAll(dir, 'DIR').trim();
}

for (const c of CASES) {
  test(`rollback plan: ${c.what}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-undo-'));
    try {
      const { undo, afterUndo } = run(dir);
      c.since?.(dir);
      const checked: string[] = [];
      const checkOk = await undoChanges(
        scriptedHost(c.existed === true),
        undo,
        afterUndo,
        true,
        (r) => checked.push(shown(r, dir)),
      );
      assert.ok(existsSync(join(dir, 'app', 'conf')), '--check changed the host');
      const done: string[] = [];
      const ok = await undoChanges(scriptedHost(c.existed === true), undo, afterUndo, false, (r) =>
        done.push(shown(r, dir)),
      );
      assert.deepEqual(checked, c.check);
      assert.deepEqual(done, c.real);
      assert.equal(ok, c.ok);
      assert.equal(checkOk, c.ok);
      assert.equal(existsSync(join(dir, 'app')), c.appLeft);
      assert.equal(existsSync(join(dir, 'restarted')), c.replayed === true, 'replay');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
