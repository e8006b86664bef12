import { chmod, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { run } from './exec.ts';
import type { LabPaths } from './paths.ts';
import type { LabTools } from './tools.ts';

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** An ed25519 key pair at `priv` and `priv.pub`, made unless both exist (half a pair is made anew). */
async function ensureKeyPair(priv: string, comment: string, tools: LabTools): Promise<void> {
  if ((await exists(priv)) && (await exists(`${priv}.pub`))) return;
  await rm(priv, { force: true });
  await rm(`${priv}.pub`, { force: true });
  await run(tools.sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', priv]);
}

/** The controller's key, `<root>/id_ed25519` (0600), generated once. Returns the public key line. */
export async function ensureControllerKey(paths: LabPaths, tools: LabTools): Promise<string> {
  await ensureKeyPair(paths.key, 'fleetbook-lab', tools);
  await chmod(paths.key, 0o600);
  return (await readFile(paths.publicKey, 'utf8')).trim();
}

/**
 * The host's ed25519 host key pair, kept in `dir` (outside the overlay) so that wiping a host
 * keeps its identity. Returns the public key line.
 */
export async function ensureHostKey(
  dir: string,
  hostName: string,
  tools: LabTools,
): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const priv = `${dir}/ssh_host_ed25519_key`;
  const pub = `${priv}.pub`;
  await ensureKeyPair(priv, `root@${hostName}`, tools);
  return (await readFile(pub, 'utf8')).trim();
}
