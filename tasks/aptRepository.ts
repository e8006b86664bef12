import {
  ConfigError,
  defineTask,
  fact,
  factEffect,
  planFile,
  sh,
  TaskFailure,
  Type,
  type Change,
  type FactQuery,
  type FileFact,
  type Plan,
  type Static,
} from 'fleetbook';
import { aptIndexChange } from './apt-candidate.ts';
import { createDir } from './ensureDir.ts';
import { localContent } from './copyFile.ts';
import { keyFingerprints } from './openpgp.ts';

const Word = Type.String({ pattern: '^[A-Za-z0-9.][A-Za-z0-9._/~+-]*$', description: 'one word' });

const Params = Type.Object(
  {
    name: Type.String({
      pattern: '^[a-z0-9][a-z0-9_.-]*$',
      description: 'a file name such as "nginx" (lower case, no slash)',
      doc: 'Names /etc/apt/sources.list.d/NAME.sources and its key /etc/apt/keyrings/NAME.asc.',
    }),
    uris: Type.Optional(
      Type.String({
        pattern: '^(https?|file)://[^\\s]+$',
        description: 'an http://, https:// or file:// URL',
        doc: 'Where the repository is.',
      }),
    ),
    suites: Type.Optional(
      Type.Array(Word, {
        minItems: 1,
        doc: 'The suites (`bookworm`), or the path of a flat repository (`./`).',
      }),
    ),
    components: Type.Optional(
      Type.Array(Word, { doc: 'The components (`main`); none for a flat repository.' }),
    ),
    architectures: Type.Optional(Type.Array(Word, { doc: 'Only these architectures (`amd64`).' })),
    key: Type.Optional(
      Type.String({
        pattern: '-----BEGIN PGP PUBLIC KEY BLOCK-----',
        description: 'an ASCII-armored OpenPGP public key',
        doc: 'The signing key, given inline (ASCII-armored). Exactly one of key, keySrc and keyUrl.',
      }),
    ),
    keySrc: Type.Optional(
      Type.String({
        minLength: 1,
        doc: 'The signing key as a file on the controller, relative to the project (in a role: its `files/`), as `src` is everywhere; armored or binary.',
      }),
    ),
    keyUrl: Type.Optional(
      Type.String({
        pattern: '^https?://[^\\s]+$',
        description: 'an http:// or https:// URL',
        doc: 'The signing key, fetched by the controller; its fingerprint must be `fingerprint`.',
      }),
    ),
    fingerprint: Type.Optional(
      Type.String({
        pattern: '^[0-9A-Fa-f]{40}([0-9A-Fa-f]{24})?$',
        description: 'a key fingerprint in 40 (or 64) hex digits, without spaces',
        doc: "The key's fingerprint: required with keyUrl, checked for any key.",
      }),
    ),
    state: Type.Optional(
      Type.Union([Type.Literal('present'), Type.Literal('absent')], {
        default: 'present',
        doc: "absent: the .sources file and its key are removed (kept in the run's backups).",
      }),
    ),
  },
  {
    additionalProperties: false,
    doc: 'An apt repository as a deb822 .sources file with Signed-By its own key (not a key trusted for every repository), and the index of that repository refreshed only when it changed.',
  },
);
export type AptRepositoryParams = Static<typeof Params>;

const SOURCES = '/etc/apt/sources.list.d';
const KEYRINGS = '/etc/apt/keyrings';
const paths = (name: string) => ({
  sources: `${SOURCES}/${name}.sources`,
  key: `${KEYRINGS}/${name}.asc`,
});

/** One fetch per key URL in a run, however many hosts ask. */
const fetchedKeys = new Map<string, Promise<Buffer>>();

async function fetchKey(url: string): Promise<Buffer> {
  const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  if (!res.ok) throw new TaskFailure(`keyUrl ${url}: HTTP ${res.status} ${res.statusText}`);
  return Buffer.from(await res.arrayBuffer());
}

/** The controller's key bytes, its fingerprint checked when one is named. */
async function keyBytes(p: AptRepositoryParams, files: string): Promise<Buffer> {
  let bytes: Buffer;
  if (p.keyUrl !== undefined) {
    const got = fetchedKeys.get(p.keyUrl) ?? fetchKey(p.keyUrl);
    fetchedKeys.set(p.keyUrl, got);
    bytes = await got;
  } else if (p.keySrc !== undefined) {
    bytes = await localContent({ src: p.keySrc }, files);
  } else {
    bytes = Buffer.from(p.key ?? '', 'utf8');
  }
  let found: string[];
  try {
    found = keyFingerprints(bytes);
  } catch (err) {
    throw new TaskFailure(`the key of apt repository ${p.name}: ${(err as Error).message}`);
  }
  if (found.length === 0)
    throw new TaskFailure(`the key of apt repository ${p.name} holds no public key`);
  const want = p.fingerprint?.toUpperCase();
  if (want !== undefined && !found.includes(want))
    throw new TaskFailure(
      `the key of apt repository ${p.name} is ${found.join(', ')}, not the fingerprint given (${want}): refusing it`,
    );
  return bytes;
}

/** The deb822 stanza apt reads (sources.list(5)). */
export function sourcesFile(p: AptRepositoryParams): string {
  const lines = [
    'Types: deb',
    `URIs: ${p.uris ?? ''}`,
    `Suites: ${(p.suites ?? []).join(' ')}`,
    ...(p.components !== undefined && p.components.length > 0
      ? [`Components: ${p.components.join(' ')}`]
      : []),
    ...(p.architectures !== undefined ? [`Architectures: ${p.architectures.join(' ')}`] : []),
    `Signed-By: ${paths(p.name).key}`,
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * An apt repository the way Debian now recommends it: a deb822 `.sources` file whose `Signed-By`
 * names its own key file, so the key is trusted for that repository only (not apt-key, not
 * trusted.gpg.d). Only that repository's index is refreshed, and only when the file or key changed.
 */
export const aptRepository = defineTask({
  type: 'aptRepository',
  params: Params,
  rules: [
    { when: 'state', is: ['present'], require: ['uris', 'suites'] },
    { when: 'state', is: ['present'], requireOne: ['key', 'keySrc', 'keyUrl'] },
    { atMostOne: ['key', 'keySrc', 'keyUrl'] },
    { when: 'keyUrl', require: ['fingerprint'] },
    {
      when: 'state',
      is: ['absent'],
      forbid: [
        'uris',
        'suites',
        'components',
        'architectures',
        'key',
        'keySrc',
        'keyUrl',
        'fingerprint',
      ],
    },
  ],
  check: (p) => {
    if ((p.suites ?? []).some((s) => s.endsWith('/')) && (p.components ?? []).length > 0)
      throw new ConfigError(
        'components: a flat repository (a suite ending in /) has no components',
        { task: `aptRepository "${p.name}"`, field: 'components' },
      );
  },
  describe: (p) => `${p.name}${p.state === 'absent' ? ' absent' : ''}`,
  prepare: async (p, _host, ctx) => ({
    key: p.state === 'absent' ? null : await keyBytes(p, ctx.files),
  }),
  probe: (p): Record<string, FactQuery> => ({
    sources: fact.file(paths(p.name).sources, 'content'),
    key: fact.file(paths(p.name).key),
    keyrings: fact.file(KEYRINGS),
  }),
  plan: (p, facts, prepared, ctx): Plan => {
    const at = paths(p.name);
    const sources = facts.sources as FileFact;
    const key = facts.key as FileFact;
    if (prepared.key === null) {
      const gone = [sources, key].filter((f) => f.exists).map(removal);
      return gone.length === 0 ? { status: 'ok' } : { status: 'change', changes: gone };
    }
    const changes: Change[] = [];
    const keyrings = facts.keyrings as FileFact;
    if (!keyrings.exists)
      changes.push(createDir(KEYRINGS, { mode: '0755', owner: 'root', group: 'root' }));
    const root = { mode: '0644', owner: 'root', group: 'root' };
    const files = [
      planFile(ctx.host.name, key, { path: at.key, content: prepared.key, ...root }),
      planFile(ctx.host.name, sources, { path: at.sources, content: sourcesFile(p), ...root }),
    ].filter((c): c is Change => c !== null);
    if (files.length === 0)
      return changes.length === 0 ? { status: 'ok' } : { status: 'change', changes };
    changes.push(...files, refresh(p.name, at.sources));
    return { status: 'change', changes };
  },
});

/** apt-get update of this repository alone: its lists only, the others left as they are. */
function refresh(name: string, sources: string): Change {
  return {
    summary: `refresh the index of apt repository ${name}`,
    diff: [{ kind: 'item', sign: '~', text: `apt-get update (${name} only)` }],
    steps: [
      {
        op: 'run',
        describe: `apt-get update (${name})`,
        script: sh`LC_ALL=C DEBIAN_FRONTEND=noninteractive apt-get -q update -o Dir::Etc::SourceList=${sources} -o Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0 -o DPkg::Lock::Timeout=120 >/dev/null`,
      },
    ],
    undo: [],
    // In check mode, aptInstall's state: latest then knows not to plan from the index as it is.
    effects: [factEffect(aptIndexChange(null), `aptRepository ${name} refreshes it`)],
  };
}

function removal(f: FileFact): Change {
  return {
    summary: `remove ${f.path} (kept in the run's backups)`,
    diff: [{ kind: 'item', sign: '-', text: `file ${f.path}` }],
    steps: [{ op: 'remove', path: f.path }],
    undo: [],
    effects: [{ kind: 'file', fact: { ...f, exists: false, type: null, sha256: null } }],
  };
}
