// A signed apt repository the tests build and serve: a small package in two versions (dpkg-deb),
// its index (apt-ftparchive), a generated key (gpg) signing InRelease, served over HTTP on
// loopback, which the lab hosts share with the controller.
import { execFile as execFileCb } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFile = promisify(execFileCb);

export interface AptRepo {
  /** http://127.0.0.1:PORT/ : a flat repository (suite `./`). */
  readonly url: string;
  /** The signing key's fingerprint; the key itself, ASCII-armored, is served at URL key.asc. */
  readonly fingerprint: string;
  /** Paths the server was asked for, in order. */
  readonly asked: readonly string[];
  close(): Promise<void>;
}

/** fb-hello VERSION: /usr/bin/fb-hello prints `hello VERSION`. */
async function buildDeb(dir: string, version: string): Promise<void> {
  const root = join(dir, `fb-hello-${version}`);
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  await mkdir(join(root, 'usr/bin'), { recursive: true });
  await writeFile(
    join(root, 'DEBIAN/control'),
    `Package: fb-hello\nVersion: ${version}\nArchitecture: all\nMaintainer: fleetbook tests <tests@example.org>\nDescription: says hello (fleetbook e2e)\n`,
  );
  await writeFile(join(root, 'usr/bin/fb-hello'), `#!/bin/sh\necho hello ${version}\n`);
  await chmod(join(root, 'usr/bin/fb-hello'), 0o755);
  await execFile('dpkg-deb', [
    '--root-owner-group',
    '-Zgzip',
    '--build',
    root,
    join(dir, 'repo', `fb-hello_${version}_all.deb`),
  ]);
  await rm(root, { recursive: true });
}

/** gpg, apt-ftparchive and dpkg-deb on the controller, installed as the lab installs its tools. */
async function ensureRepoTools(): Promise<void> {
  const need: string[] = [];
  for (const [cmd, pkg] of [
    ['gpg', 'gpg'],
    ['apt-ftparchive', 'apt-utils'],
    ['dpkg-deb', 'dpkg'],
  ] as const) {
    const found = await execFile('sh', ['-c', `command -v ${cmd}`]).then(
      () => true,
      () => false,
    );
    if (!found) need.push(pkg);
  }
  if (need.length === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await execFile('apt-get', ['update', '-qq'], { env });
  await execFile('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...need], { env });
}

/**
 * fb-hello at each of `versions`, and `extra` files (more .deb packages are indexed too; other
 * files are only served), under a new key.
 */
export async function serveAptRepo(
  versions: readonly string[],
  extra: Readonly<Record<string, Buffer>> = {},
): Promise<AptRepo> {
  await ensureRepoTools();
  const dir = await mkdtemp(join(tmpdir(), 'fb-apt-repo-'));
  const repo = join(dir, 'repo');
  const gnupg = join(dir, 'gnupg');
  await mkdir(repo);
  await mkdir(gnupg, { mode: 0o700 });
  for (const v of versions) await buildDeb(dir, v);
  for (const [name, bytes] of Object.entries(extra)) await writeFile(join(repo, name), bytes);
  const packages = await execFile('apt-ftparchive', ['packages', '.'], { cwd: repo });
  await writeFile(join(repo, 'Packages'), packages.stdout);
  const release = await execFile(
    'apt-ftparchive',
    ['-o', 'APT::FTPArchive::Release::Origin=fleetbook-e2e', 'release', '.'],
    { cwd: repo },
  );
  await writeFile(join(repo, 'Release'), release.stdout);
  const gpg = (args: string[]) =>
    execFile('gpg', ['--homedir', gnupg, '--batch', '--quiet', ...args]);
  await gpg([
    '--passphrase',
    '',
    '--quick-gen-key',
    'fleetbook e2e repo <repo@example.org>',
    'ed25519',
    'sign',
    'never',
  ]);
  await gpg(['--clearsign', '--output', join(repo, 'InRelease'), join(repo, 'Release')]);
  const key = (await gpg(['--armor', '--export'])).stdout;
  await writeFile(join(repo, 'key.asc'), key);
  const fpr =
    (await gpg(['--with-colons', '--list-keys'])).stdout.match(/^fpr:+([0-9A-F]{40}):/m)?.[1] ?? '';
  const asked: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    asked.push(path);
    if (path.includes('..')) return res.writeHead(404).end();
    readFile(join(repo, path.replace(/^\/+/, '')))
      .then((body) => res.writeHead(200).end(body))
      .catch(() => res.writeHead(404).end());
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    fingerprint: fpr,
    asked,
    close: async () => {
      await new Promise<void>((ok) =>
        server.close(() => {
          ok();
        }),
      );
      await rm(dir, { recursive: true });
    },
  };
}
