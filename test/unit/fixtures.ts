/**
 * Shared test fixtures for the unit tests: a host, fact builders, and helpers that plan a task
 * from facts answered by a small stand-in for the host. Not a test file itself.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  absentFile,
  sha256,
  type Fact,
  type FactQuery,
  type FileFact,
  type FileRead,
  type GroupFact,
  type HostView,
  type Change,
  type Plan,
  type Step,
  type PlanContext,
  type ProbeSpec,
  type ServiceFact,
  type Task,
  type UserFact,
} from '../../src/index.ts';
import { lineHashes } from '../../src/core/probe-script.ts';
import { runPlaybook, type RunOptions, type RunResult } from '../../src/runner/run.ts';
import type { RunEvent, TaskEndEvent } from '../../src/runner/events.ts';

/** test/fixtures/templates: set it as $FLEETBOOK_TEMPLATES in tests that render templates. */
export const templatesDir = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'templates',
);

/** The host most task tests plan for: web1 in the lab, no vars, groups or secrets. */
export const host: HostView = {
  name: 'web1',
  address: '127.0.1.1',
  environment: 'lab',
  secrets: {},
  groups: [],
  vars: {},
};

/** `host` with some fields replaced. */
export const hostView = (over: Partial<HostView> = {}): HostView => ({ ...host, ...over });

/** A value as JSON has it: Scripts become their text, so plans compare with plain objects. */
export const plain = (x: unknown): unknown => JSON.parse(JSON.stringify(x) ?? 'null');

/** A path with nothing at it. */
export const absent = (p: string): FileFact => absentFile(p);

/** A directory, root:root 0755 unless attrs say otherwise. */
export const dir = (p: string, attrs: Partial<FileFact> = {}): FileFact => ({
  path: p,
  exists: true,
  type: 'directory',
  mode: '0755',
  owner: 'root',
  group: 'root',
  size: 4096,
  sha256: null,
  mtime: 1,
  ...attrs,
});

/**
 * A regular file with this content, root:root 0644 unless attrs say otherwise. `read` is what the
 * probe brought back of the bytes: the content (default), one hash per line, or nothing.
 */
export function file(
  p: string,
  content: string,
  attrs: Partial<FileFact> = {},
  read: FileRead = 'content',
): FileFact {
  const base: FileFact = {
    path: p,
    exists: true,
    type: 'file',
    mode: '0644',
    owner: 'root',
    group: 'root',
    size: content.length,
    sha256: sha256(content),
    mtime: 1,
    ...attrs,
  };
  switch (read) {
    case 'content':
      return { ...base, content: Buffer.from(content) };
    case 'lineHashes':
      return { ...base, lineHashes: lineHashes(content) };
    case 'none':
      return base;
  }
}

/** A user account (uid/gid 1, home /, shell /bin/sh unless attrs say otherwise). */
export const user = (name: string, attrs: Partial<UserFact> = {}): UserFact => ({
  name,
  exists: true,
  uid: 1,
  gid: 1,
  home: '/',
  shell: '/bin/sh',
  ...attrs,
});

/** A user that does not exist. */
export const noUser = (name: string): UserFact => ({
  name,
  exists: false,
  uid: null,
  gid: null,
  home: null,
  shell: null,
});

/** A group (gid 1 unless attrs say otherwise). */
export const group = (name: string, attrs: Partial<GroupFact> = {}): GroupFact => ({
  name,
  exists: true,
  gid: 1,
  ...attrs,
});

/** A loaded systemd service, active and enabled, unless over says otherwise. */
export const service = (name: string, over: Partial<ServiceFact> = {}): ServiceFact => ({
  name,
  manager: 'systemd',
  exists: true,
  active: 'active',
  enabled: 'enabled',
  needsDaemonReload: false,
  ...over,
});

/** The fact a stand-in host gives for one probe query; undefined: the test expects no such query. */
export type Answer = (q: FactQuery) => Fact | undefined;

/** Answer every query of a probe; a query the answer does not know fails the test. */
export function answerAll(queries: ProbeSpec, answer: Answer): Record<string, Fact> {
  const facts: Record<string, Fact> = {};
  for (const [key, q] of Object.entries(queries)) {
    const f = answer(q);
    // null is a fact (a custom fact's "none"); undefined is a query the test did not expect.
    facts[key] = f === undefined ? assert.fail(`unexpected query ${q.kind}`) : f;
  }
  return facts;
}

/** A stand-in host of files and accounts. */
export interface FakeHost {
  /** Files by path. */
  readonly files?: Readonly<Record<string, FileFact>>;
  /** The fact for a path not in files (default: absent). */
  readonly otherwise?: (p: string) => FileFact;
  /** Users that exist (uid/gid 1); others do not. */
  readonly users?: readonly string[];
  /** Groups that exist (gid 1); others do not. */
  readonly groups?: readonly string[];
}

/** Answers file, user and group queries from a FakeHost, nothing else. */
export const answerFrom =
  (state: FakeHost): Answer =>
  (q) => {
    switch (q.kind) {
      case 'file':
        return state.files?.[q.path] ?? (state.otherwise ?? absent)(q.path);
      case 'user':
        return user(q.name, { exists: state.users?.includes(q.name) === true });
      case 'group':
        return group(q.name, { exists: state.groups?.includes(q.name) === true });
      default:
        return undefined;
    }
  };

/** Plan a task with this prepared value, from the facts the answer gives for its probe. */
export function planFrom(
  task: Task,
  prepared: unknown,
  answer: Answer,
  ctx: PlanContext = { host, notified: false },
): Plan {
  return task.plan(answerAll(task.probe(prepared), answer), prepared, ctx);
}

/** Prepare a task for ctx.host (as the controller does), then plan it from the answer's facts. */
export async function preparePlan(
  task: Task,
  answer: Answer,
  ctx: PlanContext = { host, notified: false },
): Promise<Plan> {
  const prepared = await task.prepare(ctx.host);
  return planFrom(task, prepared, answer, ctx);
}

/** A whole run on the controller itself (an inventory of `connection: local`), its events kept. */
export async function runLocal(
  playbook: string,
  inventory: string,
  check: boolean,
  more: Partial<RunOptions> = {},
): Promise<RunResult & { readonly events: RunEvent[]; readonly ends: TaskEndEvent[] }> {
  const events: RunEvent[] = [];
  const r = await runPlaybook(
    { playbook, inventory, check, forks: 1, rollback: true, acceptNewHostKeys: false, ...more },
    (e) => events.push(e),
  );
  return {
    ...r,
    events,
    ends: events.filter((e): e is TaskEndEvent => e.type === 'task-end'),
  };
}

/** A step as a plan table shows it: a run step's description, else its op and path. */
export const stepText = (s: Step): string => (s.op === 'run' ? s.describe : `${s.op} ${s.path}`);

/** A change as a plan table shows it: `summary | steps | undo`. */
export function changeRow(c: Change, step: (s: Step) => string = stepText): string {
  return `${c.summary} | ${c.steps.map(step).join('; ')} | ${c.undo.map(step).join('; ')}`;
}

/** A plan as a table row wants it: ok, `fail: MESSAGE`, `unknown: REASON`, or a line per change. */
export function planRows(
  p: Plan,
  row: (c: Change) => string = (c) => changeRow(c),
): string | string[] {
  if (p.status === 'ok') return 'ok';
  if (p.status === 'fail') return `fail: ${p.message}`;
  if (p.status === 'unknown') return `unknown: ${p.reason}`;
  return p.changes.map(row);
}
