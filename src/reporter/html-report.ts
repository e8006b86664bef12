import { unifiedLineKind } from '../core/diff.ts';
import type { DiffPart } from '../core/task.ts';
import type { HostJournal, Journal, JournalTask } from '../runner/journal.ts';
import { describeUndo } from '../runner/remote.ts';
import { REPORT_CSS } from './html-report-style.ts';
import { plural } from './runs-view.ts';

/**
 * One self-contained HTML file for a run (no script, no network, no external asset): what a
 * person checks after a rollout. Everything comes from the journal, whose secrets are masked.
 */
export function renderReport(j: Journal): string {
  const hosts = Object.entries(j.hosts);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>fleetbook ${esc(j.check ? 'check' : 'run')} ${esc(j.runId)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
${summary(j, hosts)}
${matrix(hosts)}
${timeline(j, hosts)}
${failures(hosts)}
${diffs(hosts)}
</body>
</html>
`;
}

const esc = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

const SYMBOL: Readonly<Record<string, string>> = {
  ok: '✓',
  changed: '●',
  'would-change': '◐',
  unknown: '?',
  failed: '✗',
  skipped: '–',
  unreachable: '⊘',
  'rolled-back': '↺',
};

function summary(j: Journal, hosts: readonly [string, HostJournal][]): string {
  const duration =
    j.finishedAt === undefined
      ? 'did not finish (killed?)'
      : seconds(Date.parse(j.finishedAt) - Date.parse(j.startedAt));
  const byStatus = new Map<string, number>();
  for (const [, h] of hosts) byStatus.set(h.status, (byStatus.get(h.status) ?? 0) + 1);
  const rows: [string, string][] = [
    ['playbook', j.playbook],
    ['inventory', j.inventory],
    ['environment', j.environment],
    ['mode', j.check ? 'check (--check: nothing was changed)' : 'real run'],
    ['who', j.user ?? 'not recorded'],
    ['started', j.startedAt],
    ['duration', duration],
    ['exit code', j.exitCode === undefined ? 'none' : String(j.exitCode)],
    ['hosts', [...byStatus].map(([s, n]) => `${n} ${s}`).join(', ')],
    ...(j.stopped !== undefined ? [['stopped', j.stopped] as [string, string]] : []),
  ];
  return `<header>
<h1>fleetbook ${j.check ? 'check' : 'run'} <code>${esc(j.runId)}</code></h1>
<dl id="summary">${rows.map(([k, v]) => `<dt>${k}</dt><dd data-field="${k}">${esc(v)}</dd>`).join('')}</dl>
</header>`;
}

/** The columns: every task title in the order hosts met them (hosts may run different tasks). */
function columns(hosts: readonly [string, HostJournal][]): string[] {
  const seen = new Set<string>();
  for (const [, h] of hosts) for (const t of h.tasks) seen.add(t.title);
  return [...seen];
}

function matrix(hosts: readonly [string, HostJournal][]): string {
  const cols = columns(hosts);
  const head = cols.map((c) => `<th scope="col"><span>${esc(c)}</span></th>`).join('');
  const body = hosts
    .map(([name, h]) => {
      const byTitle = new Map(h.tasks.map((t) => [t.title, t]));
      const cells = cols
        .map((c) => {
          const t = byTitle.get(c);
          if (t === undefined) return '<td class="none" title="not run on this host"></td>';
          const tip = `${c}: ${t.outcome} (${seconds(t.durationMs)})${t.message !== undefined ? `\n${t.message}` : ''}`;
          return `<td class="o-${t.outcome}" title="${esc(tip)}">${SYMBOL[t.outcome] ?? ''}</td>`;
        })
        .join('');
      return `<tr data-host="${esc(name)}" class="s-${h.status}"><th scope="row">${esc(name)}</th><td class="status">${h.status}</td>${cells}</tr>`;
    })
    .join('\n');
  const legend = Object.entries(SYMBOL)
    .map(([o, s]) => `<span class="o-${o}">${s} ${o}</span>`)
    .join(' ');
  return `<section id="matrix"><h2>Hosts × tasks</h2><p class="legend">${legend}</p>
<div class="scroll"><table><thead><tr><th scope="col">host</th><th scope="col">status</th>${head}</tr></thead>
<tbody>${body}</tbody></table></div></section>`;
}

function timeline(j: Journal, hosts: readonly [string, HostJournal][]): string {
  const start = Date.parse(j.startedAt);
  const ends = hosts.flatMap(([, h]) => h.tasks.map((t) => end(t, start)));
  const total = Math.max(
    1,
    ...ends,
    j.finishedAt === undefined ? 0 : Date.parse(j.finishedAt) - start,
  );
  const pct = (ms: number): string => `${((100 * ms) / total).toFixed(3)}%`;
  const rows = hosts
    .map(([name, h]) => {
      const bars = h.tasks
        .filter((t) => t.finishedAt !== undefined)
        .map((t) => {
          const from = end(t, start) - t.durationMs;
          return `<span class="o-${t.outcome}" style="left:${pct(from)};width:${pct(t.durationMs)}" title="${esc(`${t.title}: ${seconds(t.durationMs)}, ${t.outcome}`)}"></span>`;
        })
        .join('');
      return `<div class="lane"><span class="name">${esc(name)}</span><span class="track">${bars}</span></div>`;
    })
    .join('\n');
  return `<section id="timeline"><h2>Timeline</h2><p class="legend">0 to ${seconds(total)}; each bar is one task, from its start to its end (hover for its name)</p>${rows}</section>`;
}

const end = (t: JournalTask, start: number): number =>
  t.finishedAt === undefined ? 0 : Date.parse(t.finishedAt) - start;

const isFailure = (t: JournalTask): boolean =>
  t.outcome === 'failed' || t.outcome === 'unreachable';

function failures(hosts: readonly [string, HostJournal][]): string {
  const failed = hosts.filter(([, h]) => h.tasks.some(isFailure));
  if (failed.length === 0) return '<section id="failures"><h2>Failures</h2><p>None.</p></section>';
  const items = failed
    .map(([name, h]) => {
      const bad = h.tasks
        .filter(isFailure)
        .map(
          (t) =>
            `<h4>${esc(t.title)} <small>${t.outcome}</small></h4><pre class="message">${esc(t.message ?? '')}</pre>`,
        )
        .join('');
      const undo = h.rolledBack
        ? `<p class="rollback">Rolled back: ${plural(h.undo.length, 'step')}, last first.</p><ol class="undo">${[
            ...h.undo,
          ]
            .reverse()
            .map((u) => `<li>${esc(describeUndo(u))}</li>`)
            .join('')}</ol>`
        : `<p class="rollback">Not rolled back${h.undo.length > 0 ? `: its changes were kept (fleetbook rollback can undo ${plural(h.undo.length, 'step')})` : ': it had changed nothing'}.</p>`;
      return `<article data-host="${esc(name)}"><h3>${esc(name)}</h3>${bad}${undo}</article>`;
    })
    .join('\n');
  return `<section id="failures"><h2>Failures</h2>${items}</section>`;
}

/** Diffs open on the page up to this many; beyond it (a fleet), each opens on a click. */
const OPEN_DIFFS = 20;

function diffs(hosts: readonly [string, HostJournal][]): string {
  const all = hosts.flatMap(([name, h]) =>
    h.tasks.filter((t) => (t.diff?.length ?? 0) > 0).map((t) => ({ name, t })),
  );
  if (all.length === 0)
    return '<section id="diffs"><h2>Diffs</h2><p>No task changed anything.</p></section>';
  const open = all.length <= OPEN_DIFFS ? ' open' : '';
  const items = all.map(
    ({ name, t }) =>
      `<details${open} data-host="${esc(name)}"><summary>${esc(name)} · ${esc(t.title)} <small>${t.outcome}</small></summary><pre class="diff">${(t.diff ?? []).map(diffPart).join('\n')}</pre></details>`,
  );
  return `<section id="diffs"><h2>Diffs</h2>${items.join('\n')}</section>`;
}

function diffPart(d: DiffPart): string {
  if (d.kind === 'attr')
    return `<span class="attr">${esc(`${d.subject} ${d.field}: ${d.before} -> ${d.after}`)}</span>`;
  if (d.kind === 'item')
    return `<span class="${d.sign === '+' ? 'add' : d.sign === '-' ? 'del' : 'attr'}">${esc(`${d.sign} ${d.text}`)}</span>`;
  return d.unified
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => {
      const kind = unifiedLineKind(l);
      return kind === 'context'
        ? esc(l)
        : `<span class="${kind === 'header' ? 'file' : kind}">${esc(l)}</span>`;
    })
    .join('\n');
}
