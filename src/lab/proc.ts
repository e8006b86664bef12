import { readFile, readdir, readlink } from 'node:fs/promises';

/** A process the lab started, identified by PID and start time (so a reused PID is never mistaken for it). */
export interface ProcRef {
  pid: number;
  /** field 22 of /proc/PID/stat: clock ticks after boot */
  startTime: number;
}

interface Stat {
  state: string;
  ppid: number;
  startTime: number;
}

async function readStat(pid: number): Promise<Stat | null> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "pid (comm) S ppid ..." — comm may hold spaces and parentheses, so split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0];
  const ppid = Number(rest[1]);
  const startTime = Number(rest[19]);
  if (state === undefined || !Number.isFinite(ppid) || !Number.isFinite(startTime)) return null;
  return { state, ppid, startTime };
}

/** A reference to a running process (null if it is gone or a zombie). */
export async function procRef(pid: number): Promise<ProcRef | null> {
  const st = await readStat(pid);
  if (st === null || st.state === 'Z' || st.state === 'X') return null;
  return { pid, startTime: st.startTime };
}

/**
 * Is this exact process still running? Zombies count as gone: on machines whose PID 1 does not
 * reap orphans, a dead detached process can linger as a zombie indefinitely.
 */
export async function isRunning(ref: ProcRef | null | undefined): Promise<boolean> {
  if (ref === null || ref === undefined) return false;
  const st = await readStat(ref.pid);
  return st !== null && st.state !== 'Z' && st.state !== 'X' && st.startTime === ref.startTime;
}

export async function cmdline(pid: number): Promise<string[]> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((a) => a !== '');
  } catch {
    return [];
  }
}

/** Sends a signal; false if the process was already gone. */
export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until the process is gone (or a zombie); true if it went within the time. */
export async function waitGone(ref: ProcRef, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!(await isRunning(ref))) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

async function allPids(): Promise<number[]> {
  const entries = await readdir('/proc');
  return entries.filter((e) => /^[0-9]+$/.test(e)).map(Number);
}

/**
 * The init processes (PID 1 of their PID namespace) of containers booted from the overlay whose
 * upper directory is `upperDir`. Found through the process's own mount table, so this also finds a
 * container whose systemd-nspawn parent has died and left it orphaned.
 */
export async function findContainerInits(upperDir: string): Promise<ProcRef[]> {
  const found: ProcRef[] = [];
  const needle = `upperdir=${upperDir}`;
  for (const pid of await allPids()) {
    let status: string;
    try {
      status = await readFile(`/proc/${pid}/status`, 'utf8');
    } catch {
      continue;
    }
    const nspid = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/);
    if (nspid === undefined || nspid.length < 2 || nspid[nspid.length - 1] !== '1') continue;
    let mountinfo: string;
    try {
      mountinfo = await readFile(`/proc/${pid}/mountinfo`, 'utf8');
    } catch {
      continue;
    }
    const hit = mountinfo.split('\n').some((line) => {
      const i = line.indexOf(needle);
      if (i < 0) return false;
      const after = line[i + needle.length];
      return after === undefined || after === ',' || after === ' ';
    });
    if (!hit) continue;
    const ref = await procRef(pid);
    if (ref !== null) found.push(ref);
  }
  return found;
}

/** Processes whose executable is systemd-nspawn and whose arguments include `-D dir` (lab-started ones). */
export async function findNspawns(rootfs: string): Promise<ProcRef[]> {
  const found: ProcRef[] = [];
  for (const pid of await allPids()) {
    let exe: string;
    try {
      exe = await readlink(`/proc/${pid}/exe`);
    } catch {
      continue;
    }
    if (!exe.endsWith('/systemd-nspawn')) continue;
    const args = await cmdline(pid);
    const i = args.indexOf('-D');
    if (i < 0 || args[i + 1] !== rootfs) continue;
    const ref = await procRef(pid);
    if (ref !== null) found.push(ref);
  }
  return found;
}

/** Mount points at or below `dir`, deepest first (the order to unmount them in). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const points: string[] = [];
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (field === undefined) continue;
    // mountinfo escapes space, tab, newline and backslash as octal
    const mp = field.replace(/\\([0-7]{3})/g, (_, o: string) =>
      String.fromCharCode(parseInt(o, 8)),
    );
    if (mp === dir || mp.startsWith(`${dir}/`)) points.push(mp);
  }
  return points.sort((a, b) => b.length - a.length);
}

export async function isMountPoint(dir: string): Promise<boolean> {
  return (await mountsUnder(dir)).includes(dir);
}
