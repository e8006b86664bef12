import type { Script } from './shell.ts';
import type { PackageContentsFact, PackageContentsQuery } from './package-contents.ts';
import type { CustomQuery } from './custom-fact.ts';

export type {
  PackageContents,
  PackageContentsFact,
  PackageContentsQuery,
} from './package-contents.ts';
/**
 * Facts are the host state a task may read. A task's probe names the facts it needs as data,
 * so the runner can read the facts of many tasks in one round trip, and in check mode
 * overlay what earlier tasks would have done (simulated state).
 */

export type FileRead = 'none' | 'content' | 'lineHashes';

export interface FileQuery {
  readonly kind: 'file';
  readonly path: string;
  /** What to bring back of a regular file's bytes: nothing, the content, or one hash per line (sensitive files). */
  readonly read: FileRead;
  /**
   * The sha256 the caller expects (what it would write), saying the bytes only serve a diff: when
   * the file already has that hash, or when the run shows no diff (neither --diff nor --json),
   * they are not sent (no `content` or `lineHashes` in the fact). A no-change run moves no file data.
   */
  readonly skipIfSha256?: string;
}
export interface PackagesQuery {
  readonly kind: 'packages';
  readonly names: readonly string[];
}
export interface UserQuery {
  readonly kind: 'user';
  readonly name: string;
}
export interface GroupQuery {
  readonly kind: 'group';
  readonly name: string;
}
export interface ServiceQuery {
  readonly kind: 'service';
  readonly name: string;
}
/** A read-only shell check. Its result cannot be simulated, so check mode marks it stale after any change. */
export interface CommandQuery {
  readonly kind: 'command';
  readonly script: Script;
}

export type FactQuery =
  | FileQuery
  | PackagesQuery
  | UserQuery
  | GroupQuery
  | ServiceQuery
  | CommandQuery
  | PackageContentsQuery
  | CustomQuery;

export type FileType = 'file' | 'directory' | 'symlink' | 'other';

export interface FileFact {
  readonly path: string;
  readonly exists: boolean;
  readonly type: FileType | null;
  /** Four octal digits, e.g. "0644". */
  readonly mode: string | null;
  readonly owner: string | null;
  readonly group: string | null;
  readonly size: number | null;
  /** sha256 hex of a regular file's bytes. */
  readonly sha256: string | null;
  /** The bytes of a regular file, when the query asked for content. */
  readonly content?: Buffer;
  /** sha256 of each line (with its newline), when the query asked for line hashes. */
  readonly lineHashes?: readonly string[];
  /** Modification time, seconds since the epoch. */
  readonly mtime: number | null;
  /**
   * `DEVICE:INODE` as the host read it (two names with the same one are hard links to one file).
   * Not set in check mode's simulation of a file a change made.
   */
  readonly inode?: string;
  /** What a symlink points to, as it is written (set for symlinks only). */
  readonly linkTarget?: string;
  /**
   * Set when the probe could not read the file, or could not look into its directory (not running
   * as root): the fact is then a guess, and the runner does not plan from it.
   */
  readonly unreadable?: string;
}

/** The fact of a path with nothing at it. */
export function absentFile(path: string): FileFact {
  return {
    path,
    exists: false,
    type: null,
    mode: null,
    owner: null,
    group: null,
    size: null,
    sha256: null,
    mtime: null,
  };
}

export interface PackageState {
  readonly installed: boolean;
  readonly version: string | null;
  /** apt-mark hold: apt leaves it at its version. */
  readonly held?: boolean;
}
export type PackagesFact = Readonly<Record<string, PackageState>>;

export interface UserFact {
  readonly name: string;
  readonly exists: boolean;
  readonly uid: number | null;
  readonly gid: number | null;
  readonly home: string | null;
  readonly shell: string | null;
}

export interface GroupFact {
  readonly name: string;
  readonly exists: boolean;
  readonly gid: number | null;
  /** Its supplementary members (users whose primary group it is are not listed), when read. */
  readonly members?: readonly string[];
}

export interface ServiceFact {
  readonly name: string;
  readonly manager: 'systemd' | 'sysv' | 'none';
  readonly exists: boolean;
  /** systemd ActiveState ("active", "inactive", "failed", ...) or "active"/"inactive" from sysv status. */
  readonly active: string;
  readonly enabled: string;
  /** systemd: the unit file changed on disk since it was loaded (`systemctl daemon-reload` is due). */
  readonly needsDaemonReload: boolean;
}

export interface CommandFact {
  readonly code: number;
  readonly stdout: string;
}

export type FactOf<Q extends FactQuery> = Q extends FileQuery
  ? FileFact
  : Q extends PackagesQuery
    ? PackagesFact
    : Q extends UserQuery
      ? UserFact
      : Q extends GroupQuery
        ? GroupFact
        : Q extends ServiceQuery
          ? ServiceFact
          : Q extends CommandQuery
            ? CommandFact
            : Q extends PackageContentsQuery
              ? PackageContentsFact
              : Q extends CustomQuery<unknown, infer F>
                ? F
                : never;

export type Fact =
  | FileFact
  | PackagesFact
  | UserFact
  | GroupFact
  | ServiceFact
  | CommandFact
  | PackageContentsFact
  | CustomFact;

/**
 * A custom fact's value (defineFact) as the runner holds it: whatever its parser made. The task
 * that asked reads it typed, through FactOf.
 */
export interface CustomFact {
  readonly [customFact]: true;
}
declare const customFact: unique symbol;

/** A probe: named fact queries. The plan receives the same names with their facts. */
export type ProbeSpec = Readonly<Record<string, FactQuery>>;
export type FactsOf<P extends ProbeSpec> = { readonly [K in keyof P]: FactOf<P[K]> };

/** Constructors for fact queries, used in a task's `probe`. */
export const fact = {
  file: (path: string, read: FileRead = 'none', skipIfSha256?: string): FileQuery => ({
    kind: 'file',
    path,
    read,
    ...(read !== 'none' && skipIfSha256 !== undefined ? { skipIfSha256 } : {}),
  }),
  packages: (names: readonly string[]): PackagesQuery => ({
    kind: 'packages',
    names: [...names].sort(),
  }),
  user: (name: string): UserQuery => ({ kind: 'user', name }),
  group: (name: string): GroupQuery => ({ kind: 'group', name }),
  service: (name: string): ServiceQuery => ({ kind: 'service', name }),
  command: (script: Script): CommandQuery => ({ kind: 'command', script }),
  /**
   * What installing these packages (those not installed, and the dependencies apt would add)
   * would put on the host. Read in check mode only, from the archives apt would fetch; a real run
   * reads nothing and gets no packages.
   */
  packageContents: (names: readonly string[], recommends = false): PackageContentsQuery => ({
    kind: 'packageContents',
    names: [...names].sort(),
    recommends,
  }),
} as const;

/** A stable key per query, used for batching, caching and the simulated-state overlay. */
export function factKey(q: FactQuery): string {
  switch (q.kind) {
    case 'file':
      return `file:${q.read}:${q.skipIfSha256 ?? ''}:${q.path}`;
    case 'packages':
      return `packages:${q.names.join(',')}`;
    case 'user':
      return `user:${q.name}`;
    case 'group':
      return `group:${q.name}`;
    case 'service':
      return `service:${q.name}`;
    case 'command':
      return `command:${q.script.text}`;
    case 'packageContents':
      return `packageContents:${q.recommends ? 'r' : ''}:${q.names.join(',')}`;
    case 'custom':
      return `custom:${q.key}`;
  }
}
