import { createHash } from 'node:crypto';
import {
  absentFile,
  attributeChange,
  accountProbe,
  defineTask,
  fact,
  missingAccount,
  normMode,
  planWholeFile,
  joinScripts,
  sh,
  undoGuards,
  wholeFileProbe,
  AbsPath,
  AccountName,
  Mode,
  TaskFailure,
  Type,
  type Change,
  type FactQuery,
  type FileFact,
  type Plan,
  type Script,
  type Static,
} from 'fleetbook';
import { missingParent, parentOf } from './parent-dir.ts';

const Params = Type.Object(
  {
    url: Type.String({
      pattern: '^https?://[^\\s]+$',
      description: 'an http:// or https:// URL',
      doc: 'Where the file is fetched from.',
    }),
    dest: { ...AbsPath, doc: 'The file on the host.' },
    sha256: Type.String({
      pattern: '^[0-9a-f]{64}$',
      description: 'a sha256 in 64 lowercase hex digits',
      doc: "The file's sha256: a download with any other is refused, and a dest that has it is not downloaded again.",
    }),
    mode: Type.Optional({ ...Mode, default: '0644' }),
    owner: Type.Optional({ ...AccountName, default: 'root' }),
    group: Type.Optional({ ...AccountName, default: 'root' }),
    via: Type.Optional(
      Type.Union([Type.Literal('host'), Type.Literal('controller')], {
        default: 'host',
        doc: 'host: the host fetches it (curl, or wget, whichever is there); a host whose dest has the hash fetches nothing. controller: fleetbook fetches it once per run (even when every host has it) and uploads it, for hosts that cannot reach the URL or have neither curl nor wget.',
      }),
    ),
    timeoutSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 86400,
        default: 300,
        doc: 'How long a download may take.',
      }),
    ),
  },
  {
    additionalProperties: false,
    doc: 'A file fetched from a URL, its sha256 checked, with mode and owner; what it replaces is kept for undo.',
  },
);
export type DownloadParams = Static<typeof Params>;

/** One fetch per URL and hash in a run, however many hosts (and tasks) ask. */
const fetched = new Map<string, Promise<Buffer>>();

/**
 * The bytes at `url`, fetched by the controller once per run and refused unless their sha256 is
 * the one given (download and unarchive via the controller).
 */
export function fetchOnce(url: string, sha256: string, timeoutSeconds = 300): Promise<Buffer> {
  const key = `${url} ${sha256}`;
  const got = fetched.get(key) ?? fetchChecked(url, sha256, timeoutSeconds);
  fetched.set(key, got);
  return got;
}

async function fetchChecked(url: string, sha256: string, timeoutSeconds: number): Promise<Buffer> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutSeconds * 1000) });
  if (!res.ok) throw new TaskFailure(`${url}: HTTP ${res.status} ${res.statusText}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  const got = createHash('sha256').update(bytes).digest('hex');
  if (got !== sha256) throw new TaskFailure(`${url}: sha256 is ${got}, not ${sha256}: refusing it`);
  return bytes;
}

/**
 * A script that fetches `url` on the host into `tmp` (curl, or wget, whichever is there) and
 * keeps it only if its sha256 is the one given; else it removes it and fails saying why.
 */
export function hostFetch(url: string, tmp: string, sha256: string, timeoutSeconds = 300): Script {
  const t = timeoutSeconds;
  return sh`tmp=${tmp}; rm -f -- "$tmp"
if command -v curl >/dev/null 2>&1; then curl -fsSL --max-time ${t} -o "$tmp" ${url}
elif command -v wget >/dev/null 2>&1; then wget -q -T ${t} -O "$tmp" ${url}
else echo 'neither curl nor wget on this host: install one (aptInstall curl), or give via: controller' >&2; exit 127; fi || { rm -f -- "$tmp"; exit 1; }
got=$(sha256sum < "$tmp" | cut -c1-64)
if [ "$got" != ${sha256} ]; then rm -f -- "$tmp"; echo ${`${url}: sha256 is `}"$got"${`, not ${sha256}: refusing it`} >&2; exit 1; fi
`;
}

const attrsOf = (p: DownloadParams) => ({
  mode: normMode(p.mode ?? '0644'),
  owner: p.owner ?? 'root',
  group: p.group ?? 'root',
});

/**
 * A file from a URL, as Ansible's get_url with a checksum: never written unless its sha256 is the
 * one given, and not fetched at all when dest already has it.
 */
export const download = defineTask({
  type: 'download',
  params: Params,
  describe: (p) => `${p.url} -> ${p.dest}`,
  prepare: async (p): Promise<{ content: Buffer | null }> => {
    if (p.via !== 'controller') return { content: null };
    return { content: await fetchOnce(p.url, p.sha256, p.timeoutSeconds) };
  },
  probe: (p, prepared): Record<string, FactQuery> => {
    const a = attrsOf(p);
    if (prepared.content !== null)
      return wholeFileProbe({ path: p.dest, content: prepared.content, ...a });
    return {
      ...accountProbe(a.owner, a.group),
      parent: fact.file(parentOf(p.dest)),
      dest: fact.file(p.dest),
    };
  },
  plan: (p, facts, prepared, ctx): Plan => {
    const a = attrsOf(p);
    if (prepared.content !== null)
      return planWholeFile(ctx.host.name, facts, { path: p.dest, content: prepared.content, ...a });
    const noAccount = missingAccount(facts, a.owner, a.group, p.dest);
    if (noAccount !== null) return { status: 'fail', message: noAccount };
    const noParent = missingParent(facts.parent as FileFact, p.dest);
    if (noParent !== null) return noParent;
    const cur = facts.dest as FileFact;
    if (cur.exists && cur.type !== 'file')
      return {
        status: 'fail',
        message: `${p.dest} is a ${cur.type ?? 'special file'}, not a regular file`,
      };
    if (cur.sha256 === p.sha256) {
      const attrs = attributeChange(cur, a, 'file');
      return attrs === null ? { status: 'ok' } : { status: 'change', changes: [attrs] };
    }
    return { status: 'change', changes: fetchOnHost(p, cur) };
  },
});

/**
 * Fetched and checked beside dest first, then the old file moved into the run's backups and the
 * new one renamed over it: a bad download changes nothing, and dest is missing only for a rename.
 */
function fetchOnHost(p: DownloadParams, cur: FileFact): Change[] {
  const a = attrsOf(p);
  const tmp = `${parentOf(p.dest)}/.fleetbook-dl-${p.sha256.slice(0, 12)}`;
  const fetchStep = joinScripts([
    hostFetch(p.url, tmp, p.sha256, p.timeoutSeconds),
    sh`chown -- ${`${a.owner}:${a.group}`} ${tmp} && chmod -- ${a.mode} ${tmp}`,
  ]);
  const fetchIt: Change = {
    summary: `download ${p.url} (sha256 ${p.sha256.slice(0, 12)}…)`,
    diff: [
      ...(cur.exists
        ? [
            {
              kind: 'item' as const,
              sign: '-' as const,
              text: `file ${p.dest} (sha256 ${cur.sha256 ?? '?'})`,
            },
          ]
        : []),
      {
        kind: 'item',
        sign: '+',
        text: `file ${p.dest} (${a.mode} ${a.owner}:${a.group}, sha256 ${p.sha256}) from ${p.url}`,
      },
    ],
    steps: [{ op: 'run', describe: `fetch ${p.url}`, script: fetchStep }],
    undo: [{ op: 'run', describe: `rm ${tmp}`, script: sh`rm -f -- ${tmp}` }],
    effects: [],
  };
  const place: Change = {
    summary: `${cur.exists ? 'replace' : 'create'} ${p.dest}`,
    diff: [],
    steps: [{ op: 'run', describe: `mv ${tmp} ${p.dest}`, script: sh`mv -fT -- ${tmp} ${p.dest}` }],
    undo: [
      {
        op: 'run',
        describe: `rm ${p.dest}`,
        script: sh`rm -f -- ${p.dest}`,
        onlyIf: sh`if [ "$(sha256sum < ${p.dest} 2>/dev/null | cut -c1-64)" != ${p.sha256} ]; then echo ${`${p.dest} changed since`}; exit 1; fi\n`,
        removes: undoGuards.takes(p.dest),
      },
    ],
    effects: [
      {
        kind: 'file',
        fact: { ...absentFile(p.dest), exists: true, type: 'file', ...a, sha256: p.sha256 },
      },
    ],
  };
  const keepOld: Change | null = cur.exists
    ? {
        summary: `keep the old ${p.dest} in the run's backups`,
        diff: [],
        steps: [{ op: 'remove', path: p.dest }],
        undo: [],
        effects: [],
      }
    : null;
  return keepOld === null ? [fetchIt, place] : [fetchIt, keepOld, place];
}
