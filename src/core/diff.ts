import { diffLines, splitLines, unifiedHunks } from './line-diff.ts';
import type { DiffPart } from './task.ts';

/** The diff part of a file. */
export type FileDiffPart = Extract<DiffPart, { kind: 'file' }>;

export { MASK } from './secret-mask.ts';
import { MASK } from './secret-mask.ts';

function isText(buf: Buffer): boolean {
  if (buf.includes(0)) return false;
  return Buffer.from(buf.toString('utf8'), 'utf8').equals(buf);
}

/** What a line of a unified diff is, for the views that colour it (terminal, HTML report). */
export type UnifiedLineKind = 'header' | 'hunk' | 'add' | 'del' | 'context';

export function unifiedLineKind(line: string): UnifiedLineKind {
  if (line.startsWith('+++') || line.startsWith('---')) return 'header';
  if (line.startsWith('+')) return 'add';
  if (line.startsWith('-')) return 'del';
  return line.startsWith('@@') ? 'hunk' : 'context';
}

/**
 * A file's diff part whose text is computed when first read, then kept: JSON (--json) and the
 * terminal with --diff read it, nothing else does.
 */
export function lazyFileDiff(path: string, compute: () => string): FileDiffPart {
  let text: string | undefined;
  const part = { kind: 'file' as const, path } as FileDiffPart;
  Object.defineProperty(part, 'unified', {
    enumerable: true,
    get: () => (text ??= compute()),
  });
  return part;
}

/** Unified diff of a file, headers naming `host:path`. `null` means the file does not exist. */
export function fileDiff(
  host: string,
  path: string,
  before: Buffer | null,
  after: Buffer | null,
): FileDiffPart {
  const name = `${host}:${path}`;
  if ((before !== null && !isText(before)) || (after !== null && !isText(after))) {
    return {
      kind: 'file',
      path,
      unified: `--- ${name}\n+++ ${name}\nBinary content differs (${before?.length ?? 0} -> ${after?.length ?? 0} bytes)\n`,
    };
  }
  const a = splitLines(before?.toString('utf8') ?? '');
  const b = splitLines(after?.toString('utf8') ?? '');
  const d = diffLines(a, b);
  const header =
    `--- ${before === null ? '/dev/null' : name}\t${before === null ? '(absent)' : '(before)'}\n` +
    `+++ ${after === null ? '/dev/null' : name}\t${after === null ? '(absent)' : '(after)'}\n`;
  const note = d.minimal
    ? ''
    : `(too many changes for a line-by-line alignment: the changed part is shown as removed, then added)\n`;
  return { kind: 'file', path, unified: `${header}${unifiedHunks(a, b, d)}${note}` };
}

/**
 * Keep a config line's key, hide its value: `SECRET_KEY = 'x'` -> `SECRET_KEY = ********`.
 * Blank lines stay; any other line is masked whole.
 */
export function maskLine(line: string): string {
  if (line.trim() === '') return line;
  const m = /^(\s*[A-Za-z_][\w.-]*\s*[=:]\s*)/.exec(line);
  return m?.[1] !== undefined ? `${m[1]}${MASK}` : MASK;
}

/**
 * Diff of a sensitive file from per-line hashes of the live file (its bytes never leave the host)
 * and the new content: shows which lines change, every value masked.
 */
export function sensitiveFileDiff(
  host: string,
  path: string,
  beforeHashes: readonly string[] | null,
  afterLines: readonly string[],
  afterHashes: readonly string[],
): FileDiffPart {
  const name = `${host}:${path}`;
  const out = [
    `--- ${beforeHashes === null ? '/dev/null' : name}\t(before, values hidden)`,
    `+++ ${name}\t(after, values hidden)`,
  ];
  const { runs } = diffLines(beforeHashes ?? [], afterHashes);
  for (const run of runs) {
    const n = run.count;
    if (run.kind === 'add') {
      for (let i = 0; i < n; i++)
        out.push(`+${maskLine((afterLines[run.at + i] ?? '').replace(/\n$/, ''))}`);
    } else if (run.kind === 'del') {
      for (let i = 0; i < n; i++) out.push(`-(line ${run.at + i + 1}, value hidden)`);
    } else {
      out.push(` ... ${n} unchanged line${n === 1 ? '' : 's'}`);
    }
  }
  return { kind: 'file', path, unified: `${out.join('\n')}\n` };
}
