import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';

export interface AptSource {
  uri: string;
  suite: string;
  components: string[];
}

export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';

/** Parses one-line style (`deb [opts] URI SUITE COMPONENT...`) sources. */
export function parseOneLineSources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line.startsWith('deb ') && !line.startsWith('deb\t')) continue;
    const withoutOpts = line.replace(/\[[^\]]*\]/, ' ');
    const [, uri, suite, ...components] = withoutOpts.split(/\s+/).filter((w) => w !== '');
    if (uri !== undefined && suite !== undefined) out.push({ uri, suite, components });
  }
  return out;
}

/** Parses deb822 style (`*.sources`) sources. */
export function parseDeb822Sources(text: string): AptSource[] {
  const out: AptSource[] = [];
  const stanzas = text.split(/\n\s*\n/);
  for (const stanza of stanzas) {
    const fields = new Map<string, string>();
    let last: string | null = null;
    for (const raw of stanza.split('\n')) {
      if (raw.startsWith('#')) continue;
      if (/^\s/.test(raw) && last !== null) {
        fields.set(last, `${fields.get(last) ?? ''} ${raw.trim()}`);
        continue;
      }
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(raw);
      if (m === null || m[1] === undefined) continue;
      last = m[1].toLowerCase();
      fields.set(last, (m[2] ?? '').trim());
    }
    const words = (k: string) => (fields.get(k) ?? '').split(/\s+/).filter((w) => w !== '');
    if (!words('types').includes('deb')) continue;
    if (/^(no|false|0)$/i.test(fields.get('enabled') ?? 'yes')) continue;
    for (const uri of words('uris')) {
      for (const suite of words('suites'))
        out.push({ uri, suite, components: words('components') });
    }
  }
  return out;
}

/** Everything apt on this machine is configured with. */
export async function readAptSources(etcApt = '/etc/apt'): Promise<AptSource[]> {
  const out: AptSource[] = [];
  const read = (p: string) => readFile(p, 'utf8').catch(() => '');
  out.push(...parseOneLineSources(await read(path.join(etcApt, 'sources.list'))));
  const dir = path.join(etcApt, 'sources.list.d');
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.sort()) {
    if (name.endsWith('.list')) out.push(...parseOneLineSources(await read(path.join(dir, name))));
    else if (name.endsWith('.sources'))
      out.push(...parseDeb822Sources(await read(path.join(dir, name))));
  }
  return out;
}

export interface DebianMirrors {
  /** for debootstrap and `<suite>`, `<suite>-updates` */
  mirror: string;
  /** for `<suite>-security`, when this machine uses it */
  security: string | null;
  updates: boolean;
}

const usable = (uri: string) => /^https?:\/\//.test(uri);
const trimSlash = (uri: string) => uri.replace(/\/+$/, '');

/** Picks the Debian mirror this machine's apt uses for `suite`, and its security and updates mirrors. */
export function pickMirrors(sources: AptSource[], suite: string): DebianMirrors {
  const find = (s: string) => sources.find((x) => x.suite === s && usable(x.uri));
  const main = find(suite);
  const updates = find(`${suite}-updates`);
  const security = find(`${suite}-security`);
  const mirror = trimSlash(main?.uri ?? updates?.uri ?? DEFAULT_MIRROR);
  return {
    mirror,
    security: security === undefined ? null : trimSlash(security.uri),
    updates: updates !== undefined || main === undefined,
  };
}

/** `/etc/apt/sources.list` for the lab's hosts. */
export function renderHostSources(m: DebianMirrors, suite: string): string {
  const lines = [`deb ${m.mirror} ${suite} main`];
  if (m.updates) lines.push(`deb ${m.mirror} ${suite}-updates main`);
  if (m.security !== null) lines.push(`deb ${m.security} ${suite}-security main`);
  return `# Written by fleetbook lab (same mirrors as the controller's apt)\n${lines.join('\n')}\n`;
}
