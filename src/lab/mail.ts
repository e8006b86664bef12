import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { labPaths } from './paths.ts';
import type { LabMail, StoredMailMeta } from './types.ts';

/** Every message the lab's smarthost stored, oldest first. */
export async function readLabMail(): Promise<LabMail[]> {
  const dir = labPaths().mail;
  const names = await readdir(dir).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [] as string[];
    throw e;
  });
  const out: LabMail[] = [];
  // the .json is renamed into place after the .eml, so a message with a .json is complete
  for (const name of names) {
    if (!name.endsWith('.json') || name.includes('.tmp-')) continue;
    const id = name.slice(0, -'.json'.length);
    let meta: StoredMailMeta;
    let raw: string;
    try {
      meta = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as StoredMailMeta;
      raw = await readFile(path.join(dir, `${id}.eml`), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed meanwhile (lab down)
      throw e;
    }
    out.push({
      id,
      from: meta.from,
      to: meta.to,
      authUser: meta.authUser,
      tls: meta.tls,
      receivedAt: meta.receivedAt,
      raw,
    });
  }
  return out.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.id.localeCompare(b.id));
}
