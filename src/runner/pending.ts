import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stateDir, writeAtomic } from '../state/dir.ts';
import { withStateLock } from '../state/lock.ts';

/**
 * Handlers owed per playbook, inventory and host: a change was kept (a later task failed with
 * --no-rollback, or the host dropped) but the handler it notified never ran. The next run of the
 * same playbook and inventory runs them.
 */
type Owed = Record<string, Record<string, string[]>>;

function file(): string {
  return join(stateDir(), 'pending-handlers.json');
}

function key(playbook: string, inventory: string): string {
  return `${playbook} | ${inventory}`;
}

async function read(): Promise<Owed> {
  try {
    return JSON.parse(await readFile(file(), 'utf8')) as Owed;
  } catch {
    return {};
  }
}

export async function owedHandlers(
  playbook: string,
  inventory: string,
): Promise<Record<string, string[]>> {
  return (await read())[key(playbook, inventory)] ?? {};
}

export async function saveOwedHandlers(
  playbook: string,
  inventory: string,
  byHost: Record<string, readonly string[]>,
): Promise<void> {
  await withStateLock(file(), () => merge(playbook, inventory, byHost));
}

async function merge(
  playbook: string,
  inventory: string,
  byHost: Record<string, readonly string[]>,
): Promise<void> {
  const all = await read();
  const merged = { ...(all[key(playbook, inventory)] ?? {}), ...byHost };
  const mine = Object.fromEntries(
    Object.entries(merged)
      .filter(([, names]) => names.length > 0)
      .map(([h, names]) => [h, [...names]]),
  );
  const rest = Object.fromEntries(
    Object.entries(all).filter(([k]) => k !== key(playbook, inventory)),
  );
  await writeAtomic(
    file(),
    `${JSON.stringify(Object.keys(mine).length > 0 ? { ...rest, [key(playbook, inventory)]: mine } : rest, null, 2)}\n`,
  );
}
