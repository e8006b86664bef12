/**
 * What a file diff costs the controller, for N changed lines of N: the diff a --check --diff shows
 * for a file rewritten whole (the worst case). Prints milliseconds per size.
 *   node --import tsx bench/diff.ts [--sizes 1000,2000,4000,8000,20000]
 */
import { parseArgs } from 'node:util';
import { fileDiff, sensitiveFileDiff } from '../src/core/diff.ts';
import { lineHashes } from '../src/core/probe-script.ts';

const { values } = parseArgs({
  options: { sizes: { type: 'string', default: '1000,2000,4000,8000,20000' } },
});
for (const n of values.sizes.split(',').map(Number)) {
  const before = Array.from({ length: n }, (_, i) => `setting_${i} = ${i}\n`).join('');
  const after = Array.from({ length: n }, (_, i) => `setting_${i} = ${i + 1}\n`).join('');
  const every = Array.from(
    { length: n },
    (_, i) => `setting_${i} = ${i % 3 === 0 ? i + 1 : i}\n`,
  ).join('');
  const time = (f: () => unknown): number => {
    const t = performance.now();
    f();
    return performance.now() - t;
  };
  const all = time(() => fileDiff('h', '/etc/x', Buffer.from(before), Buffer.from(after)));
  const third = time(() => fileDiff('h', '/etc/x', Buffer.from(before), Buffer.from(every)));
  const masked = time(() =>
    sensitiveFileDiff(
      'h',
      '/etc/x',
      lineHashes(before),
      every.match(/[^\n]*\n/g) ?? [],
      lineHashes(every),
    ),
  );
  process.stdout.write(
    `${String(n).padStart(6)} lines: all changed ${all.toFixed(0)} ms; every third changed ${third.toFixed(0)} ms; sensitive, every third ${masked.toFixed(0)} ms\n`,
  );
}
