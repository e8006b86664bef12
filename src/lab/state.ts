import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ProcRef } from './proc.ts';

/** `<root>/lab.json`: what `lab up` last set up. */
export interface LabState {
  count: number;
  /** the project copy of the inventory, removed again by `lab down` */
  projectInventory: string | null;
  updatedAt: string;
}

/** `<root>/hosts/labN/state.json` */
export interface HostState {
  name: string;
  address: string;
  /** the systemd-nspawn process the lab started for this host; null when stopped */
  nspawn: ProcRef | null;
  startedAt: string | null;
}

/** `<root>/smarthost.json` */
export interface SmarthostState {
  proc: ProcRef;
  port: number;
  tlsPort: number;
  startedAt: string;
}

/** Writes a file so that readers see either the old or the new content, never a half-written one. */
export async function writeFileAtomic(
  file: string,
  data: string | Buffer,
  mode = 0o644,
): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, data, { mode });
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export async function writeJson(file: string, value: unknown, mode = 0o644): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, mode);
}

/** The parsed JSON, or null if the file is missing or unreadable (a corrupt state file counts as none). */
export async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return null;
  }
}
