import { isScript } from '../core/shell.ts';
import type { Change, DiffPart, Plan, Step } from '../core/task.ts';

/**
 * A plan comes from a task's code, often a user's: before the runner acts on it, every field that
 * ends up in a script run as root is checked here, whatever the task's types said. Returns what is
 * wrong, or null.
 */
export function planProblem(plan: unknown): string | null {
  if (typeof plan !== 'object' || plan === null) return 'plan() must return an object';
  const p = plan as Partial<Plan> & { status?: unknown };
  switch (p.status) {
    case 'ok':
      return verifyProblem((p as { verify?: unknown }).verify);
    case 'unknown':
      return typeof (p as { reason?: unknown }).reason === 'string'
        ? null
        : 'unknown: reason must be a string';
    case 'fail':
      return typeof (p as { message?: unknown }).message === 'string'
        ? null
        : 'fail: message must be a string';
    case 'change': {
      const changes = (p as { changes?: unknown }).changes;
      if (!Array.isArray(changes)) return 'change: changes must be an array';
      for (const [i, c] of (changes as unknown[]).entries()) {
        const why = changeProblem(c);
        if (why !== null) return `changes[${i}].${why}`;
      }
      return verifyProblem((p as { verify?: unknown }).verify);
    }
    default:
      return `status must be "ok", "change", "unknown" or "fail", not ${JSON.stringify(p.status)}`;
  }
}

function verifyProblem(verify: unknown): string | null {
  if (verify === undefined) return null;
  if (!Array.isArray(verify)) return 'verify must be an array';
  for (const [i, v] of (verify as unknown[]).entries()) {
    const a = v as { describe?: unknown; run?: unknown; sideEffect?: unknown };
    if (typeof a.describe !== 'string' || typeof a.run !== 'function')
      return `verify[${i}] must have describe (a string) and run (a function)`;
    if (a.sideEffect !== undefined && typeof a.sideEffect !== 'string')
      return `verify[${i}].sideEffect must be a string`;
  }
  return null;
}

function changeProblem(value: unknown): string | null {
  const c = value as Partial<Record<keyof Change, unknown>>;
  if (typeof c !== 'object' || c === null) return 'must be an object';
  if (typeof c.summary !== 'string' || c.summary === '')
    return 'summary must be a non-empty string';
  if (!Array.isArray(c.diff)) return 'diff must be an array';
  for (const [i, d] of (c.diff as unknown[]).entries()) {
    const why = diffProblem(d);
    if (why !== null) return `diff[${i}]: ${why}`;
  }
  if (!Array.isArray(c.effects)) return 'effects must be an array';
  for (const field of ['steps', 'undo', 'afterUndo'] as const) {
    const list = c[field];
    if (list === undefined && field === 'afterUndo') continue;
    if (!Array.isArray(list)) return `${field} must be an array`;
    for (const [i, s] of (list as unknown[]).entries()) {
      const why = stepProblem(s, field);
      if (why !== null) return `${field}[${i}].${why}`;
    }
  }
  return null;
}

function diffProblem(value: unknown): string | null {
  const d = value as Partial<DiffPart> | null;
  if (typeof d !== 'object' || d === null) return 'must be an object';
  switch (d.kind) {
    case 'file':
      return typeof d.unified === 'string' ? null : 'unified must be a string';
    case 'attr':
      return [d.subject, d.field, d.before, d.after].every((x) => typeof x === 'string')
        ? null
        : 'subject, field, before and after must be strings';
    case 'item':
      return typeof d.text === 'string' && ['+', '-', '~'].includes(d.sign ?? '')
        ? null
        : 'text must be a string and sign one of + - ~';
    default:
      return 'kind must be "file", "attr" or "item"';
  }
}

const ABS_PATH = /^\/[^\0\n]*$/;
const MODE = /^0?[0-7]{3}$|^[0-7]{4}$/;
/** A user or group name, or a numeric id. */
const ACCOUNT = /^([a-z_][a-z0-9_.-]*[$]?|[0-9]+)$/i;

function stepProblem(value: unknown, field: 'steps' | 'undo' | 'afterUndo'): string | null {
  const s = value as Partial<Record<string, unknown>> | null;
  if (typeof s !== 'object' || s === null) return 'must be an object';
  if (s.op === 'run') {
    if (!isScript(s.script))
      return 'script must be built with sh`...` (or raw() for your own shell code), not a plain string';
    if (s.script.text.includes('\0')) return 'script must not contain NUL bytes';
    if (typeof s.describe !== 'string' || s.describe === '')
      return 'describe must be a non-empty string';
    if (s.stdin !== undefined && typeof s.stdin !== 'string') return 'stdin must be a string';
    for (const [f, only] of [
      ['onlyIf', ['undo', 'afterUndo']],
      ['removes', ['undo']],
    ] as const) {
      if (s[f] === undefined) continue;
      if (!(only as readonly string[]).includes(field))
        return `${f}: only ${only.join(' and ')} steps have one (a rollback runs them)`;
      if (!isScript(s[f])) return `${f} must be built with sh\`...\``;
    }
    return null;
  }
  if (s.op === 'write') {
    if (field !== 'steps')
      return `op: ${field} steps must be run${field === 'undo' ? ' or remove' : ''} steps (the runner restores written files itself)`;
    const w = s as Partial<Step & { op: 'write' }>;
    if (typeof w.path !== 'string' || !ABS_PATH.test(w.path))
      return `path: expected an absolute path without newlines, got ${JSON.stringify(w.path)}`;
    if (!Buffer.isBuffer(w.content)) return 'content must be a Buffer';
    if (typeof w.mode !== 'string' || !MODE.test(w.mode))
      return `mode: expected an octal mode such as "0644", got ${JSON.stringify(w.mode)}`;
    for (const f of ['owner', 'group'] as const)
      if (typeof w[f] !== 'string' || !ACCOUNT.test(w[f]))
        return `${f}: expected a user or group name, got ${JSON.stringify(w[f])}`;
    if (w.validate !== undefined && (typeof w.validate !== 'string' || !w.validate.includes('%s')))
      return 'validate must be a command containing %s';
    return null;
  }
  if (s.op === 'remove') {
    if (field === 'afterUndo') return 'op: afterUndo steps must be run steps';
    if (typeof s.path !== 'string' || !ABS_PATH.test(s.path) || s.path === '/')
      return `path: expected an absolute path other than / without newlines, got ${JSON.stringify(s.path)}`;
    return null;
  }
  return `op must be "run", "write" or "remove", not ${JSON.stringify(s.op)}`;
}
