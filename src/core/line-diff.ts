/**
 * A line diff whose cost is bounded. jsdiff takes 0.3 s for 1,000 changed lines and a minute for
 * 8,000 (Myers' algorithm, one object per step), which stalled the controller for every other
 * host. Here lines become integers, the common head and tail are cut off, and Myers' algorithm
 * runs on typed arrays for at most `maxEdits` edits; beyond that the differing middle is shown
 * as removed-then-added, which is still exactly the change, only not the shortest way to say it.
 */

/** A run of lines: kept (in both), removed (from a) or added (from b). */
export interface Run {
  readonly kind: 'same' | 'del' | 'add';
  /** Index of the run's first line in a (same, del) or b (add). */
  readonly at: number;
  readonly count: number;
}

export interface LineDiff {
  readonly runs: readonly Run[];
  /** False when the edit budget ran out and the middle is shown as one replacement. */
  readonly minimal: boolean;
}

/** Lines as unified diffs see them: split after each newline; a last line may lack one. */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function ids(a: readonly string[], b: readonly string[]): [Int32Array, Int32Array] {
  const seen = new Map<string, number>();
  const id = (l: string): number => {
    let v = seen.get(l);
    if (v === undefined) {
      v = seen.size;
      seen.set(l, v);
    }
    return v;
  };
  return [Int32Array.from(a, id), Int32Array.from(b, id)];
}

/**
 * Myers' greedy algorithm over a[a0, a1) and b[b0, b1), keeping each round's frontier for the way
 * back. Returns the runs of the middle, or null when more than maxEdits edits would be needed.
 */
function myers(
  a: Int32Array,
  b: Int32Array,
  a0: number,
  a1: number,
  b0: number,
  b1: number,
  maxEdits: number,
): Run[] | null {
  const n = a1 - a0;
  const m = b1 - b0;
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && (v[offset + k - 1] ?? 0) < (v[offset + k + 1] ?? 0));
      let x = down ? (v[offset + k + 1] ?? 0) : (v[offset + k - 1] ?? 0) + 1;
      let y = x - k;
      while (x < n && y < m && a[a0 + x] === b[b0 + y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }
  if (found < 0) return null;
  // Walk back from (n, m), round by round, collecting single-line edits and the snakes between.
  const edits: Run[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const prev = trace[d] ?? new Int32Array(0);
    // trace[d] is the frontier after round d-1, for diagonals -d-1..d+1.
    const at = (k: number): number => prev[k + d + 1] ?? 0;
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const pk = down ? k + 1 : k - 1;
    const px = at(pk);
    const py = px - pk;
    // The snake after the edit starts where the edit ended (on diagonal k).
    const sx = down ? px : px + 1;
    if (x > sx) edits.push({ kind: 'same', at: a0 + sx, count: x - sx });
    edits.push(
      down ? { kind: 'add', at: b0 + py, count: 1 } : { kind: 'del', at: a0 + px, count: 1 },
    );
    x = px;
    y = py;
  }
  if (x > 0) edits.push({ kind: 'same', at: a0, count: x });
  return merge(edits.reverse());
}

/** Adjacent runs of one kind as one run. */
function merge(runs: readonly Run[]): Run[] {
  const out: Run[] = [];
  for (const r of runs) {
    const last = out[out.length - 1];
    if (last !== undefined && last.kind === r.kind && last.at + last.count === r.at)
      out[out.length - 1] = { ...last, count: last.count + r.count };
    else if (r.count > 0) out.push(r);
  }
  return out;
}

export function diffLines(a: readonly string[], b: readonly string[], maxEdits = 2000): LineDiff {
  const [x, y] = ids(a, b);
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  let tail = 0;
  while (
    tail < x.length - head &&
    tail < y.length - head &&
    x[x.length - 1 - tail] === y[y.length - 1 - tail]
  )
    tail++;
  const a1 = x.length - tail;
  const b1 = y.length - tail;
  const middle = myers(x, y, head, a1, head, b1, maxEdits);
  const runs: Run[] = [{ kind: 'same', at: 0, count: head }];
  if (middle !== null) runs.push(...middle);
  else
    runs.push(
      { kind: 'del', at: head, count: a1 - head },
      { kind: 'add', at: head, count: b1 - head },
    );
  runs.push({ kind: 'same', at: a1, count: tail });
  return { runs: merge(runs), minimal: middle !== null };
}

/**
 * Unified hunks (`@@ -a,n +b,m @@`) of a diff, with `context` kept lines around each change, as
 * diff(1) and jsdiff print them; a last line without a newline is followed by the usual marker.
 */
export function unifiedHunks(
  a: readonly string[],
  b: readonly string[],
  diff: LineDiff,
  context = 3,
): string {
  // Each line of the edit script with its position in a and b.
  type Line = { sign: ' ' | '-' | '+'; text: string; ai: number; bi: number };
  const lines: Line[] = [];
  let ai = 0;
  let bi = 0;
  for (const r of diff.runs) {
    for (let i = 0; i < r.count; i++) {
      if (r.kind === 'same') lines.push({ sign: ' ', text: a[ai] ?? '', ai: ai++, bi: bi++ });
      else if (r.kind === 'del') lines.push({ sign: '-', text: a[ai] ?? '', ai: ai++, bi });
      else lines.push({ sign: '+', text: b[bi] ?? '', ai, bi: bi++ });
    }
  }
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    while (i < lines.length && lines[i]?.sign === ' ') i++;
    if (i >= lines.length) break;
    const start = Math.max(0, i - context);
    let end = i;
    // Extend over changes that are at most 2*context kept lines apart: one hunk.
    for (;;) {
      while (end < lines.length && lines[end]?.sign !== ' ') end++;
      let gap = end;
      while (gap < lines.length && lines[gap]?.sign === ' ') gap++;
      if (gap < lines.length && gap - end <= 2 * context) end = gap;
      else break;
    }
    const stop = Math.min(lines.length, end + context);
    const hunk = lines.slice(start, stop);
    const first = hunk[0];
    const aLen = hunk.filter((l) => l.sign !== '+').length;
    const bLen = hunk.filter((l) => l.sign !== '-').length;
    const aStart = aLen === 0 ? (first?.ai ?? 0) : (first?.ai ?? 0) + 1;
    const bStart = bLen === 0 ? (first?.bi ?? 0) : (first?.bi ?? 0) + 1;
    out.push(`@@ -${aStart},${aLen} +${bStart},${bLen} @@\n`);
    for (const l of hunk) {
      out.push(
        `${l.sign}${l.text.endsWith('\n') ? l.text : `${l.text}\n\\ No newline at end of file\n`}`,
      );
    }
    i = stop;
  }
  return out.join('');
}
