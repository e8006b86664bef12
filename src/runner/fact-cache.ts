import {
  factKey,
  type Fact,
  type FactQuery,
  type FileFact,
  type FileRead,
  type PackagesFact,
  type ProbeSpec,
} from '../core/facts.ts';
import { buildProbeScript, lineHashes } from '../core/probe-script.ts';
import { TaskFailure } from '../core/errors.ts';
import type { Effect } from '../core/task.ts';
import type { Remote } from './remote.ts';

/**
 * The facts a host's tasks read, fetched in as few round trips as possible: each miss also
 * prefetches the facts of the tasks still to come. In check mode, the effects of the changes
 * earlier tasks would make are overlaid (simulated state), so later tasks plan against what a
 * real run would find.
 */
export class FactCache {
  private readonly probed = new Map<string, Fact>();
  private readonly simFiles = new Map<string, FileFact>();
  private readonly simPackages = new Map<string, { installed: boolean; version: string | null }>();
  private readonly simAccounts = new Map<string, Fact>();

  /**
   * `diffs`: whether anyone will see a diff. A file's bytes asked for with an expected hash
   * (skipIfSha256) serve only the diff, so without diffs they are not sent at all.
   */
  constructor(
    private readonly remote: Remote,
    private readonly diffs = true,
  ) {}

  /** Facts for one probe; on any miss, one round trip fetches it together with `upcoming` queries. */
  async get(spec: ProbeSpec, upcoming: readonly FactQuery[] = []): Promise<Record<string, Fact>> {
    const queries = Object.values(spec);
    const missing = queries.filter((q) => !this.probed.has(factKey(q)));
    if (missing.length > 0) {
      const batch = new Map<string, FactQuery>();
      for (const q of [...missing, ...upcoming])
        if (!this.probed.has(factKey(q))) batch.set(factKey(q), q);
      await this.fetch([...batch.values()]);
    }
    const out: Record<string, Fact> = {};
    for (const [name, q] of Object.entries(spec)) out[name] = this.answer(q);
    return out;
  }

  private async fetch(queries: FactQuery[]): Promise<void> {
    const asked = this.diffs
      ? queries
      : queries.map((q) =>
          q.kind === 'file' && q.skipIfSha256 !== undefined ? { ...q, read: 'none' as const } : q,
        );
    const probe = buildProbeScript(asked, this.remote.asRoot);
    const res = await this.remote.exec(probe.script);
    let facts: Fact[];
    try {
      facts = probe.parse(res.stdout);
    } catch (err) {
      throw new TaskFailure(
        `reading host state failed (exit ${res.code}): ${err instanceof Error ? err.message : String(err)}`,
        res.stderr.trim(),
      );
    }
    queries.forEach((q, i) => {
      const f = facts[i];
      if (f !== undefined) this.probed.set(factKey(q), f);
    });
  }

  private answer(q: FactQuery): Fact {
    const real = this.probed.get(factKey(q));
    if (real === undefined) throw new Error(`fact ${factKey(q)} was not fetched`);
    switch (q.kind) {
      case 'file': {
        const sim = this.simFiles.get(q.path);
        return sim === undefined ? real : shapeFile(sim, real as FileFact, q.read);
      }
      case 'packages': {
        const merged: Record<string, { installed: boolean; version: string | null }> = {
          ...(real as PackagesFact),
        };
        for (const n of q.names) {
          const s = this.simPackages.get(n);
          if (s !== undefined) merged[n] = s;
        }
        return merged;
      }
      case 'user':
      case 'group':
        return this.simAccounts.get(`${q.kind}:${q.name}`) ?? real;
      case 'service': {
        const s = this.simAccounts.get(`service:${q.name}`);
        return s === undefined ? real : { ...real, ...s };
      }
      case 'command':
        // A shell check cannot be simulated; it reports the live host.
        return real;
    }
  }

  /** Check mode: later tasks see these effects instead of the live host. */
  simulate(effects: readonly Effect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'file':
          this.simFiles.set(e.fact.path, e.fact);
          break;
        case 'packages':
          for (const [n, s] of Object.entries(e.packages)) this.simPackages.set(n, s);
          break;
        case 'user':
          this.simAccounts.set(`user:${e.fact.name}`, e.fact);
          break;
        case 'group':
          this.simAccounts.set(`group:${e.fact.name}`, e.fact);
          break;
        case 'service':
          this.simAccounts.set(`service:${e.fact.name}`, {
            ...(this.simAccounts.get(`service:${e.fact.name}`) ?? {}),
            ...e.fact,
          } as Fact);
          break;
      }
    }
  }

  /** A real change happened: anything may differ now (a command task can touch anything), so read again. */
  invalidate(): void {
    this.probed.clear();
  }

  /**
   * Only files were written (by the runner's own write step): the facts of those paths and their
   * directories are read again, and every fact that is not a file's (a unit's state, an account,
   * a command's answer may follow from a file written); other files' facts, their bytes above
   * all, stay as read.
   */
  forgetPaths(paths: readonly string[]): void {
    const touched = new Set(paths.flatMap((p) => [p, p.slice(0, Math.max(1, p.lastIndexOf('/')))]));
    for (const key of [...this.probed.keys()]) {
      const path = key.startsWith('file:') ? key.split(':').slice(3).join(':') : undefined;
      if (path === undefined || touched.has(path)) this.probed.delete(key);
    }
  }
}

/** Answer a file query from a simulated fact, in the shape the query asked for. */
function shapeFile(sim: FileFact, real: FileFact, read: FileRead): FileFact {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- removed from the copy on purpose
  const { content, lineHashes: _simHashes, ...bare } = sim;
  if (read === 'none' || sim.type !== 'file') return bare;
  // Attribute-only effects keep the live bytes; reuse what the live probe read.
  const bytes = content ?? (real.sha256 === sim.sha256 ? real.content : undefined);
  if (read === 'content') return bytes === undefined ? bare : { ...bare, content: bytes };
  if (bytes !== undefined) return { ...bare, lineHashes: lineHashes(bytes) };
  // A sensitive write's effect carries line hashes only, so its secret never sits in controller state.
  if (sim.lineHashes !== undefined) return { ...bare, lineHashes: sim.lineHashes };
  return real.sha256 === sim.sha256 && real.lineHashes !== undefined
    ? { ...bare, lineHashes: real.lineHashes }
    : bare;
}
