import { Command, InvalidArgumentError } from '@commander-js/extra-typings';
import type { LabInfo } from '../lab/index.ts';

// The lab's code (nspawn, debootstrap, the smarthost) loads only for `lab` commands, not for every run.
const labModule = (): Promise<typeof import('../lab/index.ts')> => import('../lab/index.ts');

function hostCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 250)
    throw new InvalidArgumentError('expected a number of hosts from 1 to 250');
  return n;
}

function describe(info: LabInfo): string {
  const lines = info.hosts.map(
    (h) => `  ${h.name.padEnd(8)} ${h.address.padEnd(12)} ${h.running ? 'running' : 'STOPPED'}`,
  );
  const s = info.smarthost;
  lines.push(
    `  smarthost ${s.host}:${s.port} (STARTTLS) and :${s.tlsPort} (TLS), user ${s.user}: ${s.running ? 'running' : 'STOPPED'}; mail stored in ${s.mailDir}`,
  );
  lines.push(`inventory: ${info.inventoryPath}`);
  return `${lines.join('\n')}\n`;
}

export function labCommand(): Command {
  const lab = new Command('lab').description(
    'a local fleet of throwaway Debian hosts (systemd-nspawn) and an SMTP smarthost, for tests and demos',
  );
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  lab
    .command('up')
    .description(
      'build the base once (cached), start N hosts and the smarthost, write inventories/lab.yaml',
    )
    .argument('[count]', 'number of hosts', hostCount, 3)
    .action(async (count) => {
      process.stdout.write(describe(await (await labModule()).labUp({ count, log })));
    });
  lab
    .command('down')
    .description('stop every lab host and the smarthost (the cached base is kept)')
    .action(async () => {
      await (await labModule()).labDown({ log });
    });
  lab
    .command('status')
    .description('show the lab hosts and the smarthost')
    .action(async () => {
      const info = await (await labModule()).labStatus();
      process.stdout.write(
        info === null
          ? 'the lab is not running (start it with `fleetbook lab up`)\n'
          : describe(info),
      );
    });
  return lab;
}
