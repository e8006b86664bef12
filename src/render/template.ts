/**
 * EJS rendering of `templates/`. The one file that imports ejs (DESIGN.md: one entry per package).
 *
 * Templates use plain names: `<%= domain %>`, `<%= host.name %>`. They are compiled in strict mode
 * with every variable destructured, so a name that is not defined is a ReferenceError (reported
 * with the template file and line) instead of silently rendering as empty. `<%= %>` does not
 * HTML-escape (these are config files), and refuses to print `undefined`, `null` or a plain object,
 * which in a config file is always a mistake. Use `typeof x !== 'undefined'` or `locals.x` to test
 * for an optional variable; names that are not JS identifiers are reachable as `locals['a-b']`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import vm from 'node:vm';
import ejs from 'ejs';
import { ConfigError } from '../core/errors.ts';
import { displayPath } from '../core/paths.ts';
import { templatesRoot } from '../core/project.ts';
import type { HostView } from '../core/task.ts';

type Render = (data: Record<string, unknown>) => string;

/**
 * The template file for `src`, relative to `root` (the project's templates directory unless a
 * task's PrepareContext names a role's); refuses paths that leave the root.
 */
export function templatePath(src: string, root: string = templatesRoot()): string {
  if (path.isAbsolute(src))
    throw new ConfigError(
      `src: "${src}" must be a path relative to ${displayPath(root)}/, not an absolute path`,
      { field: 'src' },
    );
  const abs = path.resolve(root, src);
  const rel = path.relative(root, abs);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new ConfigError(
      `src: "${src}" is outside the templates directory ${displayPath(root)}/`,
      {
        field: 'src',
      },
    );
  }
  return abs;
}

const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'yield let static implements interface package private protected public await arguments eval undefined NaN Infinity ' +
    // names ejs's generated function already uses (its parameters and locals)
    'locals escapeFn include rethrow'
  ).split(' '),
);

/** The variable names a template can use directly: identifiers that do not clash with JS or ejs. */
function usableNames(data: Record<string, unknown>): string[] {
  return Object.keys(data)
    .filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && !k.startsWith('__') && !RESERVED.has(k))
    .sort();
}

function printable(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value === undefined || value === null) throw new TypeError(`<%= %> printed ${String(value)}`);
  if (Array.isArray(value)) return value.map(printable).join(',');
  if (value instanceof Date) return value.toISOString();
  throw new TypeError(
    `<%= %> printed ${typeof value === 'object' ? 'an object (print one of its fields, or JSON.stringify it)' : `a ${typeof value}`}`,
  );
}

const sources = new Map<string, Promise<string>>();
const compiled = new Map<string, Render>();

async function compiledTemplate(abs: string, names: readonly string[]): Promise<Render> {
  // The destructured names are part of the compiled code, so the cache key includes them; hosts of
  // one playbook normally share the same var names, so each template compiles once per run.
  const key = `${abs}\0${names.join(',')}`;
  const hit = compiled.get(key);
  if (hit !== undefined) return hit;
  let source = sources.get(abs);
  if (source === undefined) {
    source = readFile(abs, 'utf8');
    sources.set(abs, source);
    source.catch(() => sources.delete(abs));
  }
  let text: string;
  try {
    text = await source;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT'
        ? `template ${displayPath(abs)} does not exist`
        : `cannot read template ${displayPath(abs)}: ${(err as Error).message}`,
      { field: 'src' },
    );
  }
  let fn: Render;
  const template = new ejs.Template(text, {
    filename: abs,
    strict: true,
    destructuredLocals: [...names],
    escape: printable,
    async: false,
  });
  try {
    fn = template.compile() as Render;
  } catch (err) {
    const first = ((err as Error).message.split('\n')[0] ?? '')
      .replace(` in ${abs}`, '')
      .replace(/ while compiling ejs$/, '');
    const line = syntaxErrorLine(template.source);
    const where = line === undefined ? displayPath(abs) : `${displayPath(abs)} line ${line}`;
    const shown =
      line === undefined ? '' : ` (line ${line}: ${(text.split('\n')[line - 1] ?? '').trim()})`;
    throw new ConfigError(`${where}: cannot compile template: ${first}${shown}`, {
      field: 'src',
    });
  }
  compiled.set(key, fn);
  return fn;
}

/**
 * The template line of a syntax error. ejs reports the token of the JavaScript it generated, with
 * no line; that code marks every template line (`__line = N`), so compiling it again where V8
 * names the line tells which template line it came from.
 */
function syntaxErrorLine(source: string): number | undefined {
  if (source === '') return undefined;
  try {
    new vm.Script(`(function () {\n${source}\n})`, { filename: 'template.js' });
    return undefined;
  } catch (err) {
    const at = /template\.js:(\d+)/.exec((err as Error).stack ?? '')?.[1];
    if (at === undefined) return undefined;
    const upTo = source.split('\n').slice(0, Number(at) - 1);
    for (let i = upTo.length - 1; i >= 0; i--) {
      const m = /__line = (\d+)/.exec(upTo[i] ?? '');
      if (m?.[1] !== undefined) return Number(m[1]);
    }
    return 1;
  }
}

/**
 * ejs reports a runtime error as `FILE:LINE\n<context>\n\n<message>`, once per include level
 * (outermost first). Turn it into `templates/x.ejs line 3: "domain" is not defined`.
 */
function templateError(err: unknown, abs: string): ConfigError {
  const message = err instanceof Error ? err.message : String(err);
  const parts = message.split('\n\n');
  const original = parts.length > 1 ? (parts[parts.length - 1] ?? message) : message;
  const places: string[] = [];
  for (const part of parts.slice(0, -1)) {
    const m = /^(.*):(\d+)$/.exec(part.split('\n')[0] ?? '');
    if (m?.[1] !== undefined && m[2] !== undefined)
      places.push(`${displayPath(m[1])} line ${m[2]}`);
  }
  const where = places.length > 0 ? places.reverse().join(', included from ') : displayPath(abs);
  const undef = err instanceof ReferenceError ? /^(\S+) is not defined$/.exec(original) : null;
  const what = undef?.[1] !== undefined ? `"${undef[1]}" is not defined` : original;
  return new ConfigError(`${where}: ${what}`, { field: 'src' });
}

/**
 * Render `src` with `data`; `src` is relative to `root`, in a task's prepare `ctx.templates`.
 * Throws ConfigError naming the file and line.
 */
export async function renderTemplate(
  src: string,
  data: Record<string, unknown>,
  root: string = templatesRoot(),
): Promise<string> {
  const abs = templatePath(src, root);
  const fn = await compiledTemplate(abs, usableNames(data));
  try {
    return fn(data);
  } catch (err) {
    throw templateError(err, abs);
  }
}

/**
 * What a template sees: every host var, the task's `vars` over them, and `host` (name, address,
 * environment, groups, and `facts` when the playbook reads them).
 */
export function templateData(
  host: HostView,
  vars: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  return {
    ...host.vars,
    ...vars,
    host: {
      name: host.name,
      address: host.address,
      environment: host.environment,
      groups: [...host.groups],
      ...(host.facts !== undefined ? { facts: host.facts } : {}),
    },
  };
}
