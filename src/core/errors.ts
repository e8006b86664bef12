/** Where a problem was found, so an error can name the file, the task and the field. */
export interface ErrorSource {
  file?: string;
  host?: string;
  /** The role whose vars or tasks are wrong. */
  role?: string;
  task?: string;
  field?: string;
}

/** A problem that stops the whole run before any host is touched (bad playbook, inventory, params). */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly source: ErrorSource;
  constructor(message: string, source: ErrorSource = {}) {
    super(message);
    this.source = source;
  }
  /** The message prefixed with every known part of its source, e.g. `playbooks/site.ts: task "x": ...` */
  describe(): string {
    const where: string[] = [];
    if (this.source.file !== undefined) where.push(this.source.file);
    if (this.source.host !== undefined) where.push(`host ${this.source.host}`);
    if (this.source.role !== undefined) where.push(`role ${this.source.role}`);
    if (this.source.task !== undefined) where.push(`task ${this.source.task}`);
    return where.length > 0 ? `${where.join(': ')}: ${this.message}` : this.message;
  }
}

/** Thrown by a task's probe, step or verify action: that task fails on that host, the run goes on. */
export class TaskFailure extends Error {
  override name = 'TaskFailure';
  readonly details: string | undefined;
  constructor(message: string, details?: string) {
    super(message);
    this.details = details;
  }
}

/** The host could not be reached or the connection dropped. */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
}

export function errorMessage(err: unknown): string {
  if (err instanceof ConfigError) return err.describe();
  if (err instanceof Error) return err.message;
  return String(err);
}
