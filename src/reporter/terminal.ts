import pc from 'picocolors';
import { unifiedLineKind } from '../core/diff.ts';
import type { DiffPart } from '../core/task.ts';
import { printedText, type HostRecap, type Outcome, type RunEvent } from '../runner/events.ts';
import { LiveArea, type LiveStream } from './live.ts';
import { Progress } from './progress.ts';
import type { Redactor } from './redact.ts';

export interface TerminalOptions {
  readonly diff: boolean;
  readonly color: boolean;
  readonly verbose: boolean;
  /**
   * A terminal a person watches (liveTerminal): a live area at its bottom shows each running
   * host's task, and output goes to it, above the area, instead of through `write`.
   */
  readonly live?: LiveStream | undefined;
}

/**
 * While a task has run this long, a status line says what is running, every as long again:
 * nothing else is printed until a task ends. (A live area needs none: it shows it all along.)
 */
const STATUS_EVERY_MS = 10_000;
/** How often the live area is redrawn: elapsed times move by the second, events in between. */
const LIVE_EVERY_MS = 250;

const LABEL: Record<Outcome, string> = {
  ok: 'ok',
  changed: 'changed',
  'would-change': 'would change',
  unknown: 'unknown',
  failed: 'FAILED',
  skipped: 'skipped',
  unreachable: 'UNREACHABLE',
  'rolled-back': 'rolled back',
};

function indent(text: string, by = '    '): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `${by}${l}`)
    .join('\n');
}

/** The human view: one block per finished task (so parallel hosts never interleave mid-block), then a recap. */
export function terminalReporter(
  write: (text: string) => void,
  redactor: Redactor,
  opts: TerminalOptions,
): (e: RunEvent) => void {
  const c = pc.createColors(opts.color);
  const colour: Record<Outcome, (s: string) => string> = {
    ok: c.green,
    changed: c.yellow,
    'would-change': c.yellow,
    unknown: c.magenta,
    failed: c.red,
    skipped: c.cyan,
    unreachable: c.red,
    'rolled-back': c.magenta,
  };
  let hostWidth = 8;
  let check = false;
  const area = opts.live === undefined ? undefined : new LiveArea(opts.live);
  let live = false;
  const out = (text: string): void => {
    if (area === undefined) write(redactor.redact(text));
    else area.print(redactor.redact(text), frame());
  };
  const progress = new Progress();
  let ticker: NodeJS.Timeout | undefined;
  let printed = -Infinity;
  // Checked every second, so the first line comes when a task has run 10 s, whenever it began.
  const status = (): void => {
    const now = Date.now();
    if (now - printed < STATUS_EVERY_MS) return;
    const line = progress.line(now, STATUS_EVERY_MS);
    if (line === null) return;
    printed = now;
    out(`${c.dim(`... ${line}`)}\n`);
  };
  // The live area's lines now: from run-start to run-end, the run's progress.
  const frame = (): string[] => {
    if (area === undefined || !live) return [];
    const [head = '', ...rest] = progress.frame(Date.now(), area.rows() - 1);
    return [c.bold(redactor.redact(head)), ...rest.map((l) => c.dim(redactor.redact(l)))];
  };
  const redraw = (): void => {
    area?.draw(frame());
  };
  const renderDiff = (d: DiffPart): string => {
    switch (d.kind) {
      case 'file':
        return d.unified
          .trimEnd()
          .split('\n')
          .map((l) => {
            const kind = unifiedLineKind(l);
            return kind === 'add'
              ? c.green(l)
              : kind === 'del'
                ? c.red(l)
                : kind === 'hunk'
                  ? c.cyan(l)
                  : l;
          })
          .join('\n');
      case 'attr':
        return `${d.subject} ${d.field}: ${c.red(d.before)} -> ${c.green(d.after)}`;
      case 'item':
        return (d.sign === '+' ? c.green : d.sign === '-' ? c.red : c.yellow)(
          `${d.sign} ${d.text}`,
        );
    }
  };
  return (e) => {
    progress.observe(e, Date.now());
    switch (e.type) {
      case 'run-start': {
        // unref: a ticker never keeps the process alive on its own.
        live = area !== undefined;
        ticker =
          area === undefined
            ? setInterval(status, 1000).unref()
            : setInterval(redraw, LIVE_EVERY_MS).unref();
        check = e.check;
        hostWidth = Math.max(8, ...e.hosts.map((h) => h.length));
        const mode = e.check ? c.bold(c.yellow(' CHECK MODE: nothing will be changed')) : '';
        out(
          `${c.bold(`PLAY ${e.playbook}`)} on ${e.hosts.length} host${e.hosts.length === 1 ? '' : 's'} (${e.inventory}, environment ${e.environment}), run ${e.runId}${mode}\n`,
        );
        break;
      }
      case 'task-start':
        break;
      case 'warning':
        out(`${c.yellow('warning:')} ${e.message}\n`);
        break;
      case 'task-end': {
        if (
          e.outcome === 'ok' &&
          !opts.verbose &&
          e.message === undefined &&
          e.sideEffects === undefined
        ) {
          out(`${e.host.padEnd(hostWidth)}  ${colour.ok(LABEL.ok.padEnd(12))}  ${e.task}\n`);
          break;
        }
        const lines = [
          `${e.host.padEnd(hostWidth)}  ${colour[e.outcome](LABEL[e.outcome].padEnd(12))}  ${e.handler ? 'handler: ' : ''}${e.task}`,
        ];
        // With --diff the diff says everything the one-line summaries say, more precisely.
        if (opts.diff && e.diff.length > 0)
          for (const d of e.diff) lines.push(indent(renderDiff(d)));
        else for (const ch of e.changes) lines.push(`    ${ch}`);
        if (e.message !== undefined) lines.push(indent(e.message));
        if (!check)
          for (const s of e.sideEffects ?? [])
            lines.push(indent(`side effect (cannot be undone): ${s}`));
        if (e.details !== undefined) lines.push(indent(c.dim(e.details), '      | '));
        // A command's output, as `ansible -v` shows it: stdout, then stderr, under the step.
        if (opts.verbose)
          for (const o of e.output ?? []) {
            lines.push(indent(`output of ${o.step}:`));
            lines.push(indent(c.dim(printedText(o)), '      | '));
          }
        out(`${lines.join('\n')}\n`);
        break;
      }
      case 'rollback':
        out(
          `${e.host.padEnd(hostWidth)}  ${(e.ok ? c.magenta : e.skipped === true ? c.yellow : c.red)('rollback'.padEnd(12))}  ${e.step}${e.ok ? '' : e.skipped === true ? `: ${e.message ?? ''}` : `: FAILED ${e.message ?? ''}`}\n`,
        );
        break;
      case 'host-end':
        break;
      case 'run-end':
        clearInterval(ticker);
        live = false;
        area?.stop();
        out(`\n${recapTable(e.recap, check, c)}\n`);
        if (e.stopped !== undefined) out(c.red(`rollout stopped early: ${e.stopped}\n`));
        if (e.notStarted.length > 0) out(c.red(`never started: ${e.notStarted.join(', ')}\n`));
        out(
          `${c.dim(`run ${e.runId} finished in ${(e.durationMs / 1000).toFixed(1)}s, exit code ${e.exitCode}`)}\n`,
        );
        break;
    }
  };
}

function recapTable(
  recap: readonly HostRecap[],
  check: boolean,
  c: ReturnType<typeof pc.createColors>,
): string {
  const head = ['host', 'ok', check ? 'would change' : 'changed', 'unknown', 'failed', 'status'];
  const rows = recap.map((r) => [
    r.host,
    String(r.ok),
    String(r.changed),
    String(r.unknown),
    String(r.failed),
    r.unreachable
      ? 'UNREACHABLE'
      : r.failed > 0
        ? r.rolledBack
          ? 'FAILED, rolled back'
          : 'FAILED'
        : r.changed > 0
          ? check
            ? 'would change'
            : 'changed'
          : 'ok',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]): string =>
    r
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const paint = (r: string[], line: string): string =>
    r[5]?.startsWith('FAILED') || r[5] === 'UNREACHABLE'
      ? c.red(line)
      : r[5] === 'ok'
        ? c.green(line)
        : c.yellow(line);
  return [c.bold('RECAP'), c.bold(fmt(head)), ...rows.map((r) => paint(r, fmt(r)))].join('\n');
}
