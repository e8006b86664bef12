import { createHash } from 'node:crypto';
import path from 'node:path';
import {
  absentFile,
  accountProbe,
  ConfigError,
  defineTask,
  fact,
  missingAccount,
  sh,
  undoGuards,
  AbsPath,
  AccountName,
  Type,
  type Change,
  type DiffPart,
  type FactQuery,
  type FileFact,
  type Plan,
  type Static,
  type Step,
} from 'fleetbook';
import { localContent } from './copyFile.ts';
import { fetchOnce, hostFetch } from './download.ts';
import { missingParent, parentOf } from './parent-dir.ts';

const Params = Type.Object(
  {
    src: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'a local file path',
        doc: 'An archive on the controller, relative to the project (in a role: to its `files/`); uploaded. Exactly one of src and url.',
      }),
    ),
    url: Type.Optional(
      Type.String({
        pattern: '^https?://[^\\s]+$',
        description: 'an http:// or https:// URL',
        doc: 'Where the archive is fetched from (see via). Exactly one of src and url.',
      }),
    ),
    sha256: Type.Optional(
      Type.String({
        pattern: '^[0-9a-f]{64}$',
        description: 'a sha256 in 64 lowercase hex digits',
        doc: "The archive's sha256: required with url, checked with src; an archive with any other is refused.",
      }),
    ),
    dest: {
      ...AbsPath,
      doc: 'The directory it is unpacked into, made if missing (its parent must exist). What the archive holds replaces what is there; other files stay.',
    },
    stripComponents: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 20,
        default: 0,
        doc: 'Leading path components dropped from every member (tar --strip-components): 1 unpacks `app-1.2/bin/app` as `bin/app`. Tar archives only.',
      }),
    ),
    owner: Type.Optional({
      ...AccountName,
      default: 'root',
      doc: 'Owner of dest (when made) and of everything unpacked.',
    }),
    group: Type.Optional({ ...AccountName, default: 'root' }),
    via: Type.Optional(
      Type.Union([Type.Literal('host'), Type.Literal('controller')], {
        default: 'host',
        doc: 'With url. host: the host fetches it (curl or wget), only when dest does not hold it already. controller: fleetbook fetches it once per run and uploads it.',
      }),
    ),
    timeoutSeconds: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 86400, default: 300, doc: 'How long a fetch may take.' }),
    ),
  },
  {
    additionalProperties: false,
    doc: 'A tar (gzip, bzip2, xz or zstd compressed, by name) or zip archive unpacked into a directory, once: the archive unpacked is recorded in `DEST/.fleetbook-unarchive`, and a dest that records it is left alone. The old dest is kept for undo.',
  },
);
export type UnarchiveParams = Static<typeof Params>;

/** The record unarchive leaves in dest: an unchanged record means nothing to do. */
export const RECORD = '.fleetbook-unarchive';

type Format = 'tar' | 'zip';
const FORMATS: readonly [RegExp, Format][] = [
  [/\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst)$/i, 'tar'],
  [/\.zip$/i, 'zip'],
];

/** The archive's name: src's file name, or the last part of url's path. */
function archiveName(p: UnarchiveParams): string {
  if (p.src !== undefined) return path.basename(p.src);
  return decodeURIComponent(new URL(p.url ?? '').pathname.split('/').pop() ?? '');
}

function formatOf(p: UnarchiveParams): Format {
  const name = archiveName(p);
  const found = FORMATS.find(([re]) => re.test(name));
  if (found === undefined)
    throw new ConfigError(
      `${p.src !== undefined ? 'src' : 'url'}: cannot tell the archive's format from its name "${name}" (expected .tar, .tar.gz, .tgz, .tar.bz2, .tar.xz, .tar.zst or .zip)`,
      { field: p.src !== undefined ? 'src' : 'url' },
    );
  return found[1];
}

interface Prepared {
  /** The archive's bytes on the controller (src, or url via controller); null: the host fetches it. */
  readonly content: Buffer | null;
  readonly sha256: string;
}

const sha256Of = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** What the record says: a different archive, strip or owner means unpacking again. */
function recordText(p: UnarchiveParams, sha256: string): string {
  return `archive ${archiveName(p)}\nsha256 ${sha256}\nstrip ${p.stripComponents ?? 0}\nowner ${p.owner ?? 'root'}:${p.group ?? 'root'}\n`;
}

/**
 * An archive unpacked into a directory, as Ansible's unarchive, but idempotent by a recorded
 * hash rather than by listing the archive against the host: unpacked into a scratch copy of dest
 * first, so a bad archive changes nothing, then swapped in whole.
 */
export const unarchive = defineTask({
  type: 'unarchive',
  params: Params,
  rules: [
    { exactlyOne: ['src', 'url'] },
    { when: 'url', require: ['sha256'] },
    { when: 'src', forbid: ['via'] },
  ],
  check: (p) => {
    if (formatOf(p) === 'zip' && (p.stripComponents ?? 0) > 0)
      throw new ConfigError('stripComponents: only for tar archives (unzip cannot strip)', {
        field: 'stripComponents',
      });
  },
  describe: (p) => `${p.src ?? p.url ?? ''} -> ${p.dest}`,
  prepare: async (p, _host, ctx): Promise<Prepared> => {
    if (p.src !== undefined) {
      const content = await localContent({ src: p.src }, ctx.files);
      const sha256 = sha256Of(content);
      if (p.sha256 !== undefined && p.sha256 !== sha256)
        throw new ConfigError(`src: ${p.src} has sha256 ${sha256}, not ${p.sha256}`, {
          field: 'src',
        });
      return { content, sha256 };
    }
    const sha256 = p.sha256 ?? '';
    if (p.via !== 'controller') return { content: null, sha256 };
    return { content: await fetchOnce(p.url ?? '', sha256, p.timeoutSeconds), sha256 };
  },
  probe: (p): Record<string, FactQuery> => ({
    ...accountProbe(p.owner ?? 'root', p.group ?? 'root'),
    parent: fact.file(parentOf(p.dest)),
    dest: fact.file(p.dest),
    record: fact.file(`${p.dest}/${RECORD}`, 'content'),
  }),
  plan: (p, facts, prepared): Plan => {
    const noAccount = missingAccount(facts, p.owner ?? 'root', p.group ?? 'root', p.dest);
    if (noAccount !== null) return { status: 'fail', message: noAccount };
    const noParent = missingParent(facts.parent as FileFact, p.dest);
    if (noParent !== null) return noParent;
    const dest = facts.dest as FileFact;
    if (dest.exists && dest.type !== 'directory')
      return {
        status: 'fail',
        message: `${p.dest} is a ${dest.type ?? 'special file'}, not a directory`,
      };
    const record = facts.record as FileFact;
    const text = recordText(p, prepared.sha256);
    if (record.exists && record.sha256 === sha256Of(text)) return { status: 'ok' };
    return { status: 'change', changes: unpack(p, prepared, dest, record, text) };
  },
});

/** The archive on the host, unpacked into a scratch copy of dest, then swapped in for it. */
function unpack(
  p: UnarchiveParams,
  prepared: Prepared,
  dest: FileFact,
  record: FileFact,
  text: string,
): Change[] {
  const id = prepared.sha256.slice(0, 12);
  const dir = parentOf(p.dest);
  const archive = `${dir}/.fleetbook-ar-${id}`;
  const scratch = `${dir}/.fleetbook-unar-${id}`;
  const owner = `${p.owner ?? 'root'}:${p.group ?? 'root'}`;
  const name = archiveName(p);
  const from = p.src !== undefined ? `controller file ${p.src}` : (p.url ?? '');
  const getIt: Step =
    prepared.content !== null
      ? {
          op: 'write',
          path: archive,
          content: prepared.content,
          mode: '0600',
          owner: 'root',
          group: 'root',
        }
      : {
          op: 'run',
          describe: `fetch ${p.url ?? ''}`,
          script: hostFetch(p.url ?? '', archive, prepared.sha256, p.timeoutSeconds),
        };
  const extract =
    formatOf(p) === 'zip'
      ? sh`command -v unzip >/dev/null 2>&1 || { echo 'unzip is not on this host: install it first (aptInstall unzip)' >&2; exit 127; }
unzip -q -o "$a" -d "$x"`
      : sh`tar -x -f "$a" -C "$x" --no-same-owner --strip-components=${String(p.stripComponents ?? 0)}`;
  // Members are copied in one by one: `cp -a x/. n/` would give dest the scratch directory's mode.
  const unpackIt = sh`a=${archive}; n=${scratch}; x=${`${scratch}.x`}; d=${p.dest}
rm -rf -- "$n" "$x" && mkdir -- "$x" || exit 1
${extract} || { rm -rf -- "$x" "$a"; echo ${`${name} could not be unpacked`} >&2; exit 1; }
chown -R -- ${owner} "$x" || exit 1
if [ -d "$d" ]; then cp -a -- "$d" "$n"; else mkdir -m 0755 -- "$n" && chown -- ${owner} "$n"; fi || exit 1
find "$x" -mindepth 1 -maxdepth 1 -exec cp -a -t "$n" -- {} + && rm -rf -- "$x" "$a" || exit 1
printf '%s' ${text} > "$n"/${RECORD}
`;
  const diff: DiffPart[] = [
    ...(record.exists
      ? [{ kind: 'item' as const, sign: '-' as const, text: oldRecord(p.dest, record) }]
      : []),
    ...(dest.exists
      ? []
      : [
          {
            kind: 'item' as const,
            sign: '+' as const,
            text: `directory ${p.dest} (0755 ${owner})`,
          },
        ]),
    {
      kind: 'item',
      sign: '+',
      text: `${p.dest}: ${name} (sha256 ${prepared.sha256}) from ${from} unpacked${
        p.stripComponents ? `, ${p.stripComponents} leading component(s) stripped` : ''
      }, owned by ${owner}${dest.exists ? '; what it holds replaces what is there' : ''}`,
    },
  ];
  const prepare: Change = {
    summary: `unpack ${name} beside ${p.dest}`,
    diff,
    steps: [getIt, { op: 'run', describe: `unpack ${name} into ${scratch}`, script: unpackIt }],
    undo: [
      {
        op: 'run',
        describe: `rm -r ${scratch}`,
        script: sh`rm -rf -- ${scratch} ${`${scratch}.x`} ${archive}`,
      },
    ],
    effects: [],
  };
  const keepOld: Change = {
    summary: `keep the old ${p.dest} in the run's backups`,
    diff: [],
    steps: [{ op: 'remove', path: p.dest }],
    undo: [],
    effects: [],
  };
  const swap: Change = {
    summary: `${dest.exists ? 'replace' : 'create'} ${p.dest}`,
    diff: [],
    steps: [
      { op: 'run', describe: `mv ${scratch} ${p.dest}`, script: sh`mv -T -- ${scratch} ${p.dest}` },
    ],
    undo: [
      {
        op: 'run',
        describe: `rm -r ${p.dest}`,
        script: sh`rm -rf -- ${p.dest}`,
        onlyIf: sh`if [ "$(cat -- ${`${p.dest}/${RECORD}`} 2>/dev/null)" != ${text.trimEnd()} ]; then echo ${`${p.dest} was unpacked again since`}; exit 1; fi\n`,
        removes: undoGuards.takes(p.dest),
      },
    ],
    effects: [
      {
        kind: 'file',
        fact: dest.exists
          ? dest
          : {
              ...absentFile(p.dest),
              exists: true,
              type: 'directory',
              mode: '0755',
              owner: p.owner ?? 'root',
              group: p.group ?? 'root',
            },
      },
      {
        kind: 'file',
        fact: {
          ...absentFile(`${p.dest}/${RECORD}`),
          exists: true,
          type: 'file',
          mode: '0644',
          owner: 'root',
          group: 'root',
          sha256: sha256Of(text),
          content: Buffer.from(text),
        },
      },
    ],
  };
  return dest.exists ? [prepare, keepOld, swap] : [prepare, swap];
}

/** `- /srv/app: app-1.1.tar.gz (sha256 …) unpacked`, from the record dest holds. */
function oldRecord(dest: string, record: FileFact): string {
  const got = (record.content ?? Buffer.alloc(0)).toString('utf8');
  const field = (k: string) => new RegExp(`^${k} (.*)$`, 'm').exec(got)?.[1] ?? '?';
  return `${dest}: ${field('archive')} (sha256 ${field('sha256')}) unpacked`;
}
