import { createTwoFilesPatch, diffArrays } from 'diff';
import type { DiffPart } from './task.ts';

export const MASK = '********';

function isText(buf: Buffer): boolean {
  if (buf.includes(0)) return false;
  return Buffer.from(buf.toString('utf8'), 'utf8').equals(buf);
}

/** Unified diff of a file, headers naming `host:path`. `null` means the file does not exist. */
export function fileDiff(
  host: string,
  path: string,
  before: Buffer | null,
  after: Buffer | null,
): DiffPart {
  const name = `${host}:${path}`;
  if ((before !== null && !isText(before)) || (after !== null && !isText(after))) {
    return {
      kind: 'file',
      path,
      unified: `--- ${name}\n+++ ${name}\nBinary content differs (${before?.length ?? 0} -> ${after?.length ?? 0} bytes)\n`,
    };
  }
  const unified = createTwoFilesPatch(
    before === null ? '/dev/null' : name,
    after === null ? '/dev/null' : name,
    before?.toString('utf8') ?? '',
    after?.toString('utf8') ?? '',
    before === null ? '(absent)' : '(before)',
    after === null ? '(absent)' : '(after)',
    { context: 3 },
  );
  // jsdiff opens with an "Index:"/"===" preamble that unified diffs from diff(1) do not have.
  return { kind: 'file', path, unified: unified.replace(/^(Index: .*\n)?=+\n/, '') };
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
): DiffPart {
  const name = `${host}:${path}`;
  const out = [
    `--- ${beforeHashes === null ? '/dev/null' : name}\t(before, values hidden)`,
    `+++ ${name}\t(after, values hidden)`,
  ];
  const parts = diffArrays([...(beforeHashes ?? [])], [...afterHashes]);
  let newLine = 0;
  let oldLine = 0;
  for (const part of parts) {
    const n = part.count;
    if (part.added) {
      for (let i = 0; i < n; i++)
        out.push(`+${maskLine((afterLines[newLine + i] ?? '').replace(/\n$/, ''))}`);
      newLine += n;
    } else if (part.removed) {
      for (let i = 0; i < n; i++) out.push(`-(line ${oldLine + i + 1}, value hidden)`);
      oldLine += n;
    } else {
      out.push(` ... ${n} unchanged line${n === 1 ? '' : 's'}`);
      newLine += n;
      oldLine += n;
    }
  }
  return { kind: 'file', path, unified: `${out.join('\n')}\n` };
}
