import {
  factKey,
  type Fact,
  type FactQuery,
  type FileFact,
  type FileRead,
  type PackageContentsFact,
  type PackagesFact,
  type ProbeSpec,
} from '../core/facts.ts';
import { NO_CONTENTS } from '../core/package-contents.ts';
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
  /** Custom facts (defineFact) as earlier changes leave them, by query key. */
  private readonly simCustom = new Map<string, Fact>();
  /** Check mode: what packages that earlier tasks would install ship (directories, conffiles). */
  private readonly predicted = new Map<string, FileFact>();
  /** Check mode: paths and units a would-be install may create or change, with why they are not known. */
  private readonly uncertain = new Map<string, string>();
  private accountsBy: string | undefined;
  /** Check mode: an install whose contents could not be read makes every path uncertain. */
  private everything: string | undefined;
  private commandsAfter: string | undefined;
  private changed = false;

  /**
   * `diffs`: whether anyone will see a diff. A file's bytes asked for with an expected hash
   * (skipIfSha256) serve only the diff, so without diffs they are not sent at all.
   */
  constructor(
    private readonly remote: Remote,
    private readonly diffs = true,
    /** Check mode: package contents are read (a real run installs instead of predicting). */
    private readonly check = false,
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

  private async fetch(all: FactQuery[]): Promise<void> {
    const queries = this.check ? all : all.filter((q) => q.kind !== 'packageContents');
    for (const q of all) if (!queries.includes(q)) this.probed.set(factKey(q), NO_CONTENTS);
    if (queries.length === 0) return;
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
        const live = real as FileFact;
        // A package's prediction stands for a path it would create, never over what is there.
        const sim =
          this.simFiles.get(q.path) ?? (live.exists ? undefined : this.predicted.get(q.path));
        return sim === undefined ? real : shapeFile(sim, live, q.read);
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
      case 'packageContents':
        return real;
      case 'custom':
        return this.simCustom.get(q.key) ?? real;
    }
  }

  /**
   * Check mode: why the facts of this probe cannot be trusted, if they cannot: a path, unit or
   * account that a package an earlier task would install may create or change (its files, the
   * paths its maintainer scripts name), or a shell check run after such an install would have run.
   */
  doubt(spec: ProbeSpec): string | undefined {
    for (const q of Object.values(spec)) {
      const why = this.doubtOf(q);
      if (why !== undefined) return why;
    }
    return undefined;
  }

  private doubtOf(q: FactQuery): string | undefined {
    switch (q.kind) {
      case 'file': {
        if (this.simFiles.has(q.path)) return undefined;
        const why = this.everything ?? this.uncertain.get(q.path);
        return why === undefined ? undefined : `${q.path}: ${why}`;
      }
      case 'service':
        return this.simAccounts.has(`service:${q.name}`)
          ? undefined
          : this.uncertain.get(`unit:${q.name.includes('.') ? q.name : `${q.name}.service`}`);
      case 'user':
      case 'group': {
        const live = this.probed.get(factKey(q)) as { exists?: boolean } | undefined;
        if (this.accountsBy === undefined || live?.exists === true) return undefined;
        return this.simAccounts.has(`${q.kind}:${q.name}`)
          ? undefined
          : `${q.kind} ${q.name}: ${this.accountsBy}`;
      }
      case 'command':
        return this.commandsAfter;
      // A custom fact an earlier change did not declare is read live: after a would-be install,
      // as a shell check is, it may not be what the install leaves.
      case 'custom': {
        if (this.simCustom.has(q.key)) return undefined;
        if (q.def.changedByInstalls !== 'accounts') return this.commandsAfter;
        return this.accountsBy === undefined ? undefined : `${q.key}: ${this.accountsBy}`;
      }
      default:
        return undefined;
    }
  }

  /** Check mode: what packages an earlier task would install put on the host. */
  private simulateInstalls(c: PackageContentsFact): void {
    const names = c.packages.map((p) => p.name);
    if (c.error !== undefined) {
      const why = `cannot tell what the install an earlier task would make creates (${c.error})`;
      this.everything = why;
      this.accountsBy = why;
      this.commandsAfter = why;
      return;
    }
    if (names.length === 0) return;
    const by = (name: string): string =>
      `package ${name}, which an earlier task would install, may create or change it; check mode does not install it`;
    for (const p of c.packages) {
      for (const f of p.files) if (!this.simFiles.has(f.path)) this.predicted.set(f.path, f);
      for (const path of [...p.shipped, ...p.scripted]) this.uncertain.set(path, by(p.name));
      for (const u of p.units) this.uncertain.set(`unit:${u}`, by(p.name));
      if (p.accounts)
        this.accountsBy = `package ${p.name}, which an earlier task would install, may create it`;
    }
    this.commandsAfter = `check mode cannot run this check on the host as it would be after installing ${names.join(', ')}`;
  }

  /** Check mode: an earlier task would have changed the host (whether its effects are known or not). */
  get changedBefore(): boolean {
    return this.changed;
  }

  /** Check mode: later tasks see these effects instead of the live host; `changed`: a change was planned. */
  simulate(effects: readonly Effect[], changed = effects.length > 0): void {
    if (changed) this.changed = true;
    for (const e of effects) {
      switch (e.kind) {
        case 'file':
          this.simFiles.set(e.fact.path, e.fact);
          break;
        case 'installs':
          this.simulateInstalls(e.contents);
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
        case 'fact':
          this.simCustom.set(e.key, e.value as Fact);
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
