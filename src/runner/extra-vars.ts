import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse } from 'yaml';
import { ConfigError } from '../core/errors.ts';

/**
 * `-e/--extra-vars`, as Ansible takes it: `key=value` (text; several pairs separated by spaces),
 * a JSON object, or `@file` (YAML or JSON). Later options win; extra vars win over every other
 * source of vars. Each var remembers where it came from, so a schema error can name it.
 */
export interface ExtraVars {
  readonly vars: Readonly<Record<string, unknown>>;
  /** Var name → where the winning value came from. */
  readonly origin: ReadonlyMap<string, VarOrigin>;
}

interface VarOrigin {
  /** The option as an error shows it: `-e workers=...`, `-e @vars.yaml`, `-e JSON`. */
  readonly option: string;
  /** Set as key=value text: the hint that JSON gives numbers and booleans applies. */
  readonly text: boolean;
}

const IDENT = '[A-Za-z_][A-Za-z0-9_]*';
const NAME = new RegExp(`^${IDENT}$`);
const PAIR = new RegExp(`^(${IDENT})=`);
const LEADING_NAME = new RegExp(`^(${IDENT})\\b`);

function mapping(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(`--extra-vars ${what}: expected a mapping of var names to values`);
  for (const k of Object.keys(value))
    if (!NAME.test(k))
      throw new ConfigError(`--extra-vars ${what}: "${k}" is not a var name (letters, digits, _)`);
  return value as Record<string, unknown>;
}

/** `a=1 b=2` is two pairs; `motd=hello world` is one (the second word is not a pair). */
function pairs(arg: string): Record<string, string> {
  const words = arg.trim().split(/\s+/);
  const many = words.length > 1 && words.every((w) => PAIR.test(w));
  const out: Record<string, string> = {};
  for (const p of many ? words : [arg]) {
    const m = PAIR.exec(p);
    if (m === null)
      throw new ConfigError(
        `--extra-vars "${arg}": expected key=value, a JSON object ({"key": 1}) or @file.yaml`,
      );
    out[m[1] ?? ''] = p.slice(m[0].length);
  }
  return out;
}

async function one(arg: string): Promise<{ vars: Record<string, unknown>; text: boolean }> {
  if (arg.startsWith('@')) {
    const file = arg.slice(1);
    let body: string;
    try {
      body = await readFile(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`--extra-vars ${arg}: cannot read ${file} (${(err as Error).message})`);
    }
    let data: unknown;
    try {
      data = extname(file) === '.json' ? JSON.parse(body) : parse(body);
    } catch (err) {
      throw new ConfigError(`--extra-vars ${arg}: ${(err as Error).message}`);
    }
    return { vars: mapping(data, arg), text: false };
  }
  if (arg.trimStart().startsWith('{')) {
    let data: unknown;
    try {
      data = JSON.parse(arg);
    } catch (err) {
      throw new ConfigError(`--extra-vars '${arg}': invalid JSON (${(err as Error).message})`);
    }
    return { vars: mapping(data, 'JSON'), text: false };
  }
  return { vars: pairs(arg), text: true };
}

export async function parseExtraVars(args: readonly string[]): Promise<ExtraVars> {
  const vars: Record<string, unknown> = {};
  const origin = new Map<string, VarOrigin>();
  for (const arg of args) {
    const r = await one(arg);
    for (const [k, v] of Object.entries(r.vars)) {
      vars[k] = v;
      const option = `-e ${arg.startsWith('@') ? arg : r.text ? `${k}=...` : 'JSON'}`;
      origin.set(k, { option, text: r.text });
    }
  }
  return { vars, origin };
}

export const NO_EXTRA_VARS: ExtraVars = { vars: {}, origin: new Map() };

/**
 * A schema error about a var that came from --extra-vars names that option, not the inventory,
 * and says how to pass a typed value when the text form was used.
 */
export function extraVarsError(err: ConfigError, extra: ExtraVars): ConfigError | undefined {
  const field = LEADING_NAME.exec(err.message)?.[1];
  const from = field === undefined ? undefined : extra.origin.get(field);
  if (field === undefined || from === undefined) return undefined;
  const hint = from.text
    ? ` (key=value gives text; for a number, boolean or list use JSON: -e '{"${field}": ...}')`
    : '';
  return new ConfigError(`${err.message}${hint}`, { ...err.source, file: from.option });
}
