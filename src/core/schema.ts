import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema, Static } from 'typebox';
import { ConfigError, type ErrorSource } from './errors.ts';
import { truncate } from './secret-mask.ts';

// One Ajv for the process; schemas are compiled once and cached by identity (STACK.md: compile once).
// No useDefaults/coerceTypes/removeAdditional: validation must never rewrite a user's input.
const ajv = new Ajv({ allErrors: true, strict: false });
const compiled = new WeakMap<object, ValidateFunction>();

function validatorFor(schema: TSchema): ValidateFunction {
  let fn = compiled.get(schema);
  if (fn === undefined) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  return fn;
}

function fieldPath(err: ErrorObject): string {
  const path = err.instancePath.replace(/^\//, '').replace(/\//g, '.');
  return path === '' ? '(params)' : path;
}

function describeValue(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return truncate(text, 60);
}

function valueAt(data: unknown, instancePath: string): unknown {
  let cur: unknown = data;
  for (const raw of instancePath.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Turn Ajv's errors into one line per field: `field: expected X, got Y`. */
export function formatSchemaErrors(
  errors: readonly ErrorObject[],
  data: unknown,
  schema: TSchema,
): string[] {
  const byPath = new Map<string, ErrorObject[]>();
  for (const err of errors) {
    const key =
      err.keyword === 'additionalProperties'
        ? `${err.instancePath}/${(err.params as { additionalProperty: string }).additionalProperty}`
        : err.instancePath;
    const list = byPath.get(key) ?? [];
    list.push(err);
    byPath.set(key, list);
  }
  const lines: string[] = [];
  for (const [key, errs] of byPath) {
    const first = errs[0];
    if (first === undefined) continue;
    if (first.keyword === 'additionalProperties') {
      const name = key.split('/').pop() ?? '';
      const parent = schemaAt(schema, first.instancePath);
      const known = parent?.properties !== undefined ? Object.keys(parent.properties) : [];
      const hint = closest(name, known);
      lines.push(
        `${key.replace(/^\//, '').replace(/\//g, '.')}: unknown field` +
          (hint !== undefined ? ` (did you mean "${hint}"?)` : '') +
          (known.length > 0 ? `; expected one of: ${known.join(', ')}` : ''),
      );
      continue;
    }
    const got = describeValue(valueAt(data, first.instancePath));
    const consts = errs
      .filter((e) => e.keyword === 'const' || e.keyword === 'enum')
      .flatMap((e) => {
        const p = e.params as { allowedValue?: unknown; allowedValues?: unknown[] };
        return p.allowedValues ?? [p.allowedValue];
      });
    const required = errs.filter((e) => e.keyword === 'required');
    if (required.length > 0) {
      for (const r of required) {
        const missing = (r.params as { missingProperty: string }).missingProperty;
        const prefix = first.instancePath === '' ? '' : `${fieldPath(first)}.`;
        lines.push(`${prefix}${missing}: required field is missing`);
      }
      continue;
    }
    if (consts.length > 0) {
      lines.push(
        `${fieldPath(first)}: expected one of ${consts.map((c) => JSON.stringify(c)).join(', ')}, got ${got}`,
      );
      continue;
    }
    // A value that fits no branch of a union: the union's description says what it wants.
    const union = errs.find((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
    const unionDescribed =
      union === undefined ? undefined : schemaAt(schema, union.instancePath)?.description;
    if (union !== undefined && unionDescribed !== undefined) {
      lines.push(`${fieldPath(union)}: expected ${unionDescribed}, got ${got}`);
      continue;
    }
    const specific = errs.find((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf') ?? first;
    // A pattern means nothing to most readers; the field's description says what it wants.
    const described =
      specific.keyword === 'pattern'
        ? schemaAt(schema, specific.instancePath)?.description
        : undefined;
    lines.push(
      `${fieldPath(specific)}: expected ${described ?? `value that ${specific.message ?? 'is valid'}`}, got ${got}`,
    );
  }
  return lines;
}

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  patternProperties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  description?: string;
}

/** The schema of one property, whether declared by name or by a record's key pattern. */
function propertySchema(node: SchemaNode, key: string): SchemaNode | undefined {
  const named = node.properties?.[key];
  if (named !== undefined) return named;
  for (const [pattern, sub] of Object.entries(node.patternProperties ?? {}))
    if (new RegExp(pattern).test(key)) return sub;
  return typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
}

function schemaAt(schema: TSchema, instancePath: string): SchemaNode | undefined {
  let cur: SchemaNode | undefined = schema;
  for (const part of instancePath.split('/').slice(1)) {
    if (cur === undefined) return undefined;
    cur = /^\d+$/.test(part) && cur.items !== undefined ? cur.items : propertySchema(cur, part);
  }
  return cur;
}

/** The known name within edit distance 2, for "did you mean" hints. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = 3;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestDist) {
      best = k;
      bestDist = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] ?? 0;
      row[j] = Math.min(
        (row[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return row[b.length] ?? 0;
}

/** Validate `data` against `schema`; throw a ConfigError naming every bad field. */
export function validate<S extends TSchema>(
  schema: S,
  data: unknown,
  source: ErrorSource,
): Static<S> {
  const fn = validatorFor(schema);
  if (fn(data)) return data as Static<S>;
  const lines = formatSchemaErrors(fn.errors ?? [], data, schema);
  const msg = lines.length === 1 ? (lines[0] ?? 'invalid') : `invalid:\n  ${lines.join('\n  ')}`;
  throw new ConfigError(msg, source);
}
