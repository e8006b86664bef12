/**
 * Summarise a V8 .cpuprofile (from `node --cpu-prof`): self time and time-on-stack per package or
 * source file, and the hottest functions.
 *
 *   node --cpu-prof --cpu-prof-dir /tmp/prof bin/fleetbook.js run ... ; node --import tsx bench/cpuprofile.ts /tmp/prof/*.cpuprofile
 */
import { readFile } from 'node:fs/promises';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Which part of the program a frame belongs to. */
export function category(f: CallFrame): string {
  if (f.url === '') {
    if (f.functionName.startsWith('(')) return f.functionName;
    return '(native)';
  }
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f.url);
  if (nm?.[1] !== undefined) return nm[1];
  if (f.url.startsWith('node:internal/modules') || f.url.startsWith('node:internal/vm'))
    return 'node: module loading';
  if (f.url.startsWith('node:'))
    return `node: ${f.url.replace(/^node:(internal\/)?/, '').split('/')[0] ?? ''}`;
  const src = /\/(src|tasks|playbooks|bin)\/(.*)$/.exec(f.url);
  if (src !== null) return `${src[1] ?? ''}/${src[2] ?? ''}`;
  return f.url;
}

export function summarise(p: CpuProfile, top = 25): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const onStack = new Map<string, number>();
  const fnSelf = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    const node = byId.get(id);
    if (node === undefined) return;
    const cat = category(node.callFrame);
    self.set(cat, (self.get(cat) ?? 0) + dt);
    const fn = `${node.callFrame.functionName || '(anonymous)'}  ${cat}:${node.callFrame.lineNumber + 1}`;
    fnSelf.set(fn, (fnSelf.get(fn) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const c = byId.get(cur);
      if (c === undefined) break;
      const k = category(c.callFrame);
      if (k === '(root)' || seen.has(k)) continue;
      seen.add(k);
      onStack.set(k, (onStack.get(k) ?? 0) + dt);
    }
  });
  const busy = total - (self.get('(idle)') ?? 0);
  const fmt = (ms: number): string => `${ms.toFixed(0).padStart(7)} ms`;
  const rows = (m: Map<string, number>, k: number): string[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, ms]) => `${fmt(ms)}  ${((ms / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
  return [
    `profile: ${(total / 1000).toFixed(2)} s sampled, ${(busy / 1000).toFixed(2)} s on the CPU (not idle)`,
    'self time by package / file:',
    ...rows(self, top),
    'time on the stack (inclusive) by package / file:',
    ...rows(onStack, top),
    'hottest functions (self):',
    ...rows(fnSelf, top),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  for (const f of process.argv.slice(2)) {
    const p = JSON.parse(await readFile(f, 'utf8')) as CpuProfile;
    process.stdout.write(`${f}\n${summarise(p)}\n\n`);
  }
}
