/**
 * The lab's smarthost: a real SMTP server (submission with STARTTLS on 587, implicit TLS on 465,
 * AUTH PLAIN/LOGIN required) that stores every accepted message under `<root>/mail`.
 * Started detached by `labUp` (see smarthost.ts): node --import tsx smarthost-main.ts <root> <port> <tlsPort>
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { labPaths } from './paths.ts';
import { SMARTHOST_USER } from './smarthost.ts';
import { writeFileAtomic, writeJson } from './state.ts';
import type { StoredMailMeta } from './types.ts';

const MAX_MESSAGE = 25 * 1024 * 1024;

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function smtpError(message: string, responseCode: number): Error {
  return Object.assign(new Error(message), { responseCode });
}

async function main(): Promise<void> {
  const [rootArg, portArg, tlsPortArg] = process.argv.slice(2);
  if (rootArg === undefined)
    throw new Error('usage: smarthost-main.ts <lab root> [port] [tlsPort]');
  const paths = labPaths(path.resolve(rootArg));
  const port = Number(portArg ?? 587);
  const tlsPort = Number(tlsPortArg ?? 465);
  const password = (await readFile(paths.smarthostPassword, 'utf8')).trim();
  await mkdir(paths.mail, { recursive: true });

  const options = (secure: boolean): SMTPServerOptions => ({
    secure,
    name: 'smarthost.fleetbook.lab',
    banner: 'fleetbook lab smarthost',
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: false,
    allowInsecureAuth: false,
    size: MAX_MESSAGE,
    logger: false,
    onAuth(auth, session, callback) {
      const ok = auth.username === SMARTHOST_USER && sameSecret(auth.password ?? '', password);
      log(
        `${session.id} ${session.remoteAddress} AUTH ${auth.method} user=${JSON.stringify(auth.username ?? '')} ${ok ? 'ok' : 'REJECTED'}`,
      );
      if (!ok) {
        callback(smtpError('Error: Authentication credentials invalid', 535));
        return;
      }
      callback(null, { user: SMARTHOST_USER });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (e: Error) => {
        callback(e);
      });
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          callback(smtpError('Error: message exceeds fixed maximum message size', 552));
          return;
        }
        const id = `${new Date().toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;
        const meta: StoredMailMeta = {
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          authUser: typeof session.user === 'string' ? session.user : null,
          tls: session.secure,
          receivedAt: new Date().toISOString(),
        };
        // .eml first, then .json: a message with a .json is complete
        writeFileAtomic(path.join(paths.mail, `${id}.eml`), Buffer.concat(chunks), 0o600)
          .then(() => writeJson(path.join(paths.mail, `${id}.json`), meta, 0o600))
          .then(
            () => {
              log(
                `${session.id} stored ${id} from=<${meta.from}> to=${meta.to.map((t) => `<${t}>`).join(',')} tls=${meta.tls} bytes=${stream.byteLength}`,
              );
              callback(null, `OK: queued as ${id}`);
            },
            (e: unknown) => {
              log(`${session.id} could not store a message: ${String(e)}`);
              callback(smtpError('Error: local problem storing the message', 451));
            },
          );
      });
    },
  });

  const servers = [
    { server: new SMTPServer(options(false)), port, what: 'submission (STARTTLS)' },
    { server: new SMTPServer(options(true)), port: tlsPort, what: 'smtps (implicit TLS)' },
  ];
  await Promise.all(
    servers.map(
      ({ server, port: p, what }) =>
        new Promise<void>((resolve, reject) => {
          server.on('error', (e) => {
            log(`${what} error: ${e.message}`);
            reject(e);
          });
          server.listen(p, '127.0.0.1', () => {
            log(`listening on 127.0.0.1:${p}, ${what}`);
            resolve();
          });
        }),
    ),
  );
  log(
    "using smtp-server's built-in self-signed TLS certificate (its key is public: fine for a local lab only)",
  );
  await writeJson(paths.smarthostReady, { pid: process.pid });

  const shutdown = (sig: string) => {
    log(`${sig}: closing`);
    let open = servers.length;
    for (const { server } of servers) {
      server.close(() => {
        if (--open === 0) process.exit(0);
      });
    }
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on('SIGTERM', () => {
    shutdown('SIGTERM');
  });
  process.on('SIGINT', () => {
    shutdown('SIGINT');
  });
}

main().catch((e: unknown) => {
  log(`fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
