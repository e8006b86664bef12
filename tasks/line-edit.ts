/**
 * Edits of a text file's lines, as Ansible's lineinfile and blockinfile make them: pure functions
 * from the old content to the new, so each case is a table row (test/unit/line-edit.test.ts).
 * Lines keep their own endings; a line added after a last line without a newline gives it one.
 */

/** Where a new line or block goes when nothing matches: after/before the last line matching a regex, or at an end. */
export interface Position {
  /** `EOF`, or a regex: after its last match (at the end when nothing matches). */
  readonly insertAfter?: string;
  /** `BOF`, or a regex: before its last match (at the end when nothing matches). */
  readonly insertBefore?: string;
}

export interface LineEdit extends Position {
  readonly line?: string;
  /** The line to replace (its last match) or, with state absent, every line to remove. */
  readonly regexp?: string;
  readonly state: 'present' | 'absent';
  /** `line` holds \1 … \9 from `regexp`; when nothing matches, the file is left as it is. */
  readonly backrefs?: boolean;
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  // "a\nb\n" is two lines, each with its newline; "a\nb" ends in a line without one.
  const last = lines.pop() ?? '';
  const out = lines.map((l) => `${l}\n`);
  if (last !== '') out.push(last);
  return out;
}

function bare(line: string): string {
  return line.endsWith('\n') ? line.slice(0, -1) : line;
}

function lastMatch(lines: readonly string[], re: RegExp): number {
  for (let i = lines.length - 1; i >= 0; i--) if (re.test(bare(lines[i] ?? ''))) return i;
  return -1;
}

/** Insert `added` (lines with their newlines) where `pos` says. */
function insertAt(lines: string[], added: readonly string[], pos: Position): string[] {
  let at = lines.length;
  if (pos.insertBefore === 'BOF') at = 0;
  else if (pos.insertBefore !== undefined) {
    const i = lastMatch(lines, new RegExp(pos.insertBefore));
    if (i >= 0) at = i;
  } else if (pos.insertAfter !== undefined && pos.insertAfter !== 'EOF') {
    const i = lastMatch(lines, new RegExp(pos.insertAfter));
    if (i >= 0) at = i + 1;
  }
  const before = lines.slice(0, at);
  const tail = before.at(-1);
  if (tail !== undefined && !tail.endsWith('\n')) before[before.length - 1] = `${tail}\n`;
  return [...before, ...added, ...lines.slice(at)];
}

/** `\1` … `\9` in `template` from a regex match (an unmatched group is empty). */
function expand(template: string, m: RegExpExecArray): string {
  return template.replace(/\\(\d)/g, (_, d: string) => m[Number(d)] ?? '');
}

/** The file's new content after a lineInFile edit (the same string when nothing changes). */
export function editLine(content: string, e: LineEdit): string {
  const lines = splitLines(content);
  const re = e.regexp === undefined ? undefined : new RegExp(e.regexp);
  if (e.state === 'absent') {
    const kept = lines.filter((l) =>
      re !== undefined ? !re.test(bare(l)) : bare(l) !== (e.line ?? ''),
    );
    return kept.join('');
  }
  const line = e.line ?? '';
  if (re !== undefined) {
    const i = lastMatch(lines, re);
    if (i >= 0) {
      const old = lines[i] ?? '';
      const m = re.exec(bare(old));
      const next = e.backrefs === true && m !== null ? expand(line, m) : line;
      lines[i] = `${next}${old.endsWith('\n') ? '\n' : ''}`;
      return lines.join('');
    }
    if (e.backrefs === true) return content;
  }
  if (lines.some((l) => bare(l) === line)) return content;
  return insertAt(lines, [`${line}\n`], e).join('');
}

export interface BlockEdit extends Position {
  readonly block: string;
  readonly state: 'present' | 'absent';
  /** The marker lines' template: `{mark}` becomes BEGIN or END. */
  readonly marker: string;
}

/** The file's new content after a blockInFile edit (the same string when nothing changes). */
export function editBlock(content: string, e: BlockEdit): string {
  const lines = splitLines(content);
  const begin = e.marker.replace('{mark}', 'BEGIN');
  const end = e.marker.replace('{mark}', 'END');
  const b = lines.findIndex((l) => bare(l) === begin);
  const en = b < 0 ? -1 : lines.findIndex((l, i) => i > b && bare(l) === end);
  const body = e.block === '' ? [] : splitLines(e.block.endsWith('\n') ? e.block : `${e.block}\n`);
  const wanted = e.state === 'absent' ? [] : [`${begin}\n`, ...body, `${end}\n`];
  if (b >= 0 && en >= 0) return [...lines.slice(0, b), ...wanted, ...lines.slice(en + 1)].join('');
  if (e.state === 'absent') return content;
  return insertAt(lines, wanted, e).join('');
}
