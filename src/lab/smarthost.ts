import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tailLines } from './exec.ts';
import { tcpOpen } from './host.ts';
import type { LabPaths } from './paths.ts';
import { cmdline, isRunning, procRef, signal, sleep, waitGone, type ProcRef } from './proc.ts';
import { readJson, writeFileAtomic, writeJson, type SmarthostState } from './state.ts';
import type { LabLog, SmarthostInfo } from './types.ts';

export const SMARTHOST_HOST = '127.0.0.1';
export const SMARTHOST_PORT = 587;
export const SMARTHOST_TLS_PORT = 465;
export const SMARTHOST_USER = 'fleetbook';

const ENTRY = fileURLToPath(
  new URL(`./smarthost-main${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The smarthost password, generated once into `<root>/smarthost.password` (0600, no newline). */
export async function ensureSmarthostPassword(paths: LabPaths): Promise<string> {
  const existing = await readFile(paths.smarthostPassword, 'utf8').catch(() => null);
  if (existing !== null && existing.trim() !== '') {
    await chmod(paths.smarthostPassword, 0o600);
    return existing.trim();
  }
  // base64url: no characters that need quoting in dma's auth.conf or a YAML file
  const password = randomBytes(24).toString('base64url');
  await writeFileAtomic(paths.smarthostPassword, password, 0o600);
  return password;
}

/** The running smarthost this lab started, or null (a stale state file counts as none). */
export async function runningSmarthost(paths: LabPaths): Promise<ProcRef | null> {
  const st = await readJson<SmarthostState>(paths.smarthostState);
  if (st === null || !(await isRunning(st.proc))) return null;
  const args = await cmdline(st.proc.pid);
  // Started from the sources (.ts: tests) or from the build (.js: the CLI): either is the lab's.
  return args.some((a) => /(^|\/)smarthost-main\.[jt]s$/.test(a)) ? st.proc : null;
}

export async function smarthostInfo(paths: LabPaths): Promise<SmarthostInfo> {
  const proc = await runningSmarthost(paths);
  const password = (await readFile(paths.smarthostPassword, 'utf8').catch(() => '')).trim();
  return {
    host: SMARTHOST_HOST,
    port: SMARTHOST_PORT,
    tlsPort: SMARTHOST_TLS_PORT,
    user: SMARTHOST_USER,
    password,
    passwordFile: paths.smarthostPassword,
    mailDir: paths.mail,
    pid: proc?.pid ?? null,
    running: proc !== null,
  };
}

function tsxImport(): string {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx';
  }
}

async function logTail(paths: LabPaths): Promise<string> {
  const text = await readFile(paths.smarthostLog, 'utf8').catch(() => '');
  return text.trim() === ''
    ? ''
    : `\n--- last lines of ${paths.smarthostLog} ---\n${tailLines(text.trimEnd(), 15)}`;
}

/** Starts the smarthost as a detached background process unless it already runs. */
export async function ensureSmarthost(paths: LabPaths, log: LabLog): Promise<SmarthostInfo> {
  await ensureSmarthostPassword(paths);
  await mkdir(paths.mail, { recursive: true, mode: 0o700 });
  const running = await runningSmarthost(paths);
  if (running !== null) {
    if (await tcpOpen(SMARTHOST_HOST, SMARTHOST_PORT, 2000)) return smarthostInfo(paths);
    log(`the smarthost (PID ${running.pid}) does not answer; restarting it`);
    await stopSmarthost(paths);
  }
  for (const p of [SMARTHOST_PORT, SMARTHOST_TLS_PORT]) {
    if (await tcpOpen(SMARTHOST_HOST, p)) {
      throw new Error(
        `cannot start the lab's smarthost: ${SMARTHOST_HOST}:${p} is already in use by another program (a local MTA?)`,
      );
    }
  }
  await rm(paths.smarthostReady, { force: true });
  const fh = await open(paths.smarthostLog, 'a', 0o600);
  let child;
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, FLEETBOOK_LAB_DIR: paths.root };
    delete env['NODE_TEST_CONTEXT']; // set by `node --test` for its children; not a test process
    child = spawn(
      process.execPath,
      [
        // from the sources (tests, the repository's lab) the entry is TypeScript
        ...(ENTRY.endsWith('.ts') ? ['--import', tsxImport()] : []),
        ENTRY,
        paths.root,
        String(SMARTHOST_PORT),
        String(SMARTHOST_TLS_PORT),
      ],
      { detached: true, stdio: ['ignore', fh.fd, fh.fd], cwd: PACKAGE_ROOT, env },
    );
  } finally {
    await fh.close();
  }
  child.on('error', () => undefined); // reported below through the missing ready file
  child.unref();
  const ref = child.pid === undefined ? null : await procRef(child.pid);
  if (ref === null) throw new Error(`could not start the lab's smarthost${await logTail(paths)}`);
  const state: SmarthostState = {
    proc: ref,
    port: SMARTHOST_PORT,
    tlsPort: SMARTHOST_TLS_PORT,
    startedAt: new Date().toISOString(),
  };
  await writeJson(paths.smarthostState, state);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await readJson<{ pid: number }>(paths.smarthostReady);
    if (ready?.pid === ref.pid) break;
    if (!(await isRunning(ref))) {
      await rm(paths.smarthostState, { force: true });
      throw new Error(`the lab's smarthost exited while starting${await logTail(paths)}`);
    }
    if (Date.now() > deadline) {
      await stopSmarthost(paths);
      throw new Error(
        `the lab's smarthost did not start listening within 30 s${await logTail(paths)}`,
      );
    }
    await sleep(100);
  }
  log(
    `smarthost listening on ${SMARTHOST_HOST}:${SMARTHOST_PORT} (STARTTLS) and :${SMARTHOST_TLS_PORT} (TLS), PID ${ref.pid}`,
  );
  return smarthostInfo(paths);
}

export async function stopSmarthost(paths: LabPaths): Promise<void> {
  const proc = await runningSmarthost(paths);
  if (proc !== null) {
    signal(proc.pid, 'SIGTERM');
    if (!(await waitGone(proc, 5000))) {
      signal(proc.pid, 'SIGKILL');
      await waitGone(proc, 3000);
    }
  }
  await rm(paths.smarthostState, { force: true });
  await rm(paths.smarthostReady, { force: true });
}
