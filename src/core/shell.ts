/**
 * Remote shell scripts, quoted by construction. Every script fleetbook runs on a host is built with
 * the `sh` tagged template: each interpolated value is single-quoted for the POSIX /bin/sh (dash on
 * Debian) unless it is itself a Script (made by `sh` or, explicitly, by `raw`). A forgotten quote
 * cannot happen, because there is no unquoted way to put a string into a script except `raw()`.
 *
 * zx's quoting emits bash-only $'...' strings and node-ssh drops empty arguments, so remote commands
 * are quoted here and nowhere else.
 */

const SCRIPT = Symbol.for('fleetbook.script');

/** A piece of shell code. Interpolated into another `sh` template, it is inserted as code. */
export interface Script {
  readonly [SCRIPT]: true;
  /** The shell code. */
  readonly text: string;
  toString(): string;
  toJSON(): string;
}

/** What may be interpolated into `sh`: strings and numbers are quoted, Scripts inserted, arrays joined by spaces. */
export type ShellValue = string | number | Script | readonly ShellValue[];

function makeScript(text: string): Script {
  return {
    [SCRIPT]: true,
    text,
    toString: () => text,
    toJSON: () => text,
  };
}

export function isScript(value: unknown): value is Script {
  return typeof value === 'object' && value !== null && SCRIPT in value;
}

/** POSIX single-quoting of one word. */
export function shq(value: string): string {
  if (value === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function render(value: ShellValue, at: number): string {
  if (isScript(value)) return value.text;
  if (typeof value === 'string') return shq(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`sh: value ${at} is not a finite number`);
    return String(value);
  }
  if (Array.isArray(value))
    return (value as readonly ShellValue[]).map((v) => render(v, at)).join(' ');
  throw new TypeError(
    `sh: value ${at} is a ${value === null ? 'null' : typeof value}; interpolate strings, numbers, arrays or Scripts`,
  );
}

/**
 * Build a script: `sh\`chown ${owner}:${group} -- ${path}\`` quotes owner, group and path.
 * Literal text is code; only interpolations are quoted.
 */
export function sh(strings: TemplateStringsArray, ...values: readonly ShellValue[]): Script {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v, i) + (strings[i + 1] ?? '');
  });
  return makeScript(out);
}

/** Shell code taken as it is: a user's own script (a command task's `run`). The one unquoted way in. */
export function raw(code: string): Script {
  return makeScript(code);
}

/** Join scripts with a separator (newline by default). */
export function joinScripts(parts: readonly Script[], separator = '\n'): Script {
  return makeScript(parts.map((p) => p.text).join(separator));
}

/** The code of a script, or of a plain string read back from a journal. */
export function scriptText(s: Script | string): string {
  return typeof s === 'string' ? s : s.text;
}
