import { readFile } from 'node:fs/promises';
import { Command } from '@commander-js/extra-typings';
import { displayPath } from '../core/paths.ts';

const store = () => import('../secrets/store.ts');

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function secretCommand(): Command {
  const secret = new Command('secret').description(
    'secrets per environment, kept in .fleetbook/secrets/ENV.json (0600, not in git)',
  );
  secret
    .command('set')
    .description('set a secret from standard input (or --from-file); the value is never echoed')
    .argument('<environment>', 'environment name, as in the inventory')
    .argument('<name>', 'secret name, as the playbook declares it')
    .option('--from-file <file>', 'read the value from a file instead of standard input')
    .action(async (environment, name, o) => {
      const value =
        o.fromFile !== undefined ? await readFile(o.fromFile, 'utf8') : await readStdin();
      const { setSecret } = await store();
      const file = await setSecret(environment, name, value);
      process.stdout.write(`secret ${name} set for ${environment} in ${displayPath(file)}\n`);
    });
  secret
    .command('list')
    .description('list the names (never the values) of the secrets set for an environment')
    .argument('<environment>')
    .action(async (environment) => {
      const { listSecrets } = await store();
      for (const n of await listSecrets(environment)) process.stdout.write(`${n}\n`);
    });
  return secret;
}
