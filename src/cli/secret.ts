import { readFile } from 'node:fs/promises';
import { Command } from '@commander-js/extra-typings';
import { controllerUser } from '../core/controller-user.ts';
import { displayPath } from '../core/paths.ts';

// Loaded on use: age's cryptography is not on the path of commands that read no secret.
const store = () => import('../secrets/store.ts');
const manage = () => import('../secrets/manage.ts');
const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function secretCommand(): Command {
  const secret = new Command('secret').description(
    'secrets per environment, age-encrypted in secrets/ENV.age (commit it) to the keys in secrets/ENV.recipients',
  );
  secret
    .command('keygen')
    .description(
      'create your age identity (FLEETBOOK_AGE_IDENTITY, default ~/.config/fleetbook/age-identity.txt) and print its public key',
    )
    .action(async () => {
      const { generateIdentityFile } = await import('../secrets/identity.ts');
      const { file, publicKey } = await generateIdentityFile();
      process.stderr.write(
        `created ${displayPath(file)} (0600): back it up; it is the only key that opens what is encrypted to it\n`,
      );
      out(publicKey);
    });
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
      out(`secret ${name} set for ${environment} in ${displayPath(file)}`);
    });
  secret
    .command('get')
    .description('print a secret value (for a script or a password manager; mind your terminal)')
    .argument('<environment>')
    .argument('<name>')
    .action(async (environment, name) => {
      const { getSecret } = await store();
      out(await getSecret(environment, name));
    });
  secret
    .command('list')
    .description('list the names (never the values) of the secrets set for an environment')
    .argument('<environment>')
    .action(async (environment) => {
      const { listSecrets } = await store();
      for (const n of await listSecrets(environment)) out(n);
    });
  secret
    .command('edit')
    .description(
      "edit an environment's secrets as JSON in $VISUAL/$EDITOR (the file is in memory, never on disk)",
    )
    .argument('<environment>')
    .action(async (environment) => {
      const { editSecrets } = await import('../secrets/edit.ts');
      const { file, changed } = await editSecrets(environment);
      out(changed ? `secrets of ${environment} saved in ${displayPath(file)}` : 'no change');
    });
  secret
    .command('rotate')
    .description(
      "re-encrypt an environment's secrets with a new key to the recipients listed now (after editing the list by hand)",
    )
    .argument('<environment>')
    .action(async (environment) => {
      const { rotate } = await manage();
      out(`re-encrypted ${displayPath(await rotate(environment))}`);
    });
  secret
    .command('migrate')
    .description(
      'encrypt the plain .fleetbook/secrets/ENV.json of earlier versions, then delete it',
    )
    .argument('<environment>')
    .action(async (environment) => {
      const { migrate } = await manage();
      const r = await migrate(environment);
      out(`${r.count} secrets moved from ${displayPath(r.from)} (deleted) to ${displayPath(r.to)}`);
    });
  secret.addCommand(recipientsCommand());
  return secret;
}

function recipientsCommand(): Command {
  const recipients = new Command('recipients').description(
    "the age public keys that can read an environment's secrets",
  );
  recipients
    .command('list')
    .argument('<environment>')
    .action(async (environment) => {
      const [{ listRecipients }, { recipientLine }] = await Promise.all([
        manage(),
        import('../secrets/recipients.ts'),
      ]);
      for (const r of await listRecipients(environment)) out(recipientLine(r));
    });
  recipients
    .command('add')
    .description(
      'add a key and re-encrypt the stored secrets to it (needs your identity to read them)',
    )
    .argument('<environment>')
    .argument('<public-key>', 'age1...')
    .option('--note <text>', 'whose key it is', `added by ${controllerUser()}`)
    .action(async (environment, key, o) => {
      const { changeRecipients } = await manage();
      const list = await changeRecipients(environment, { add: { key, note: o.note } });
      out(`${environment}: ${list.length} recipients`);
    });
  recipients
    .command('remove')
    .description('remove a key and re-encrypt without it (then change the values it could read)')
    .argument('<environment>')
    .argument('<public-key>')
    .action(async (environment, key) => {
      const { changeRecipients } = await manage();
      const list = await changeRecipients(environment, { remove: key });
      out(`${environment}: ${list.length} recipients`);
      process.stderr.write(
        `note: ${key} could read these values before, and git history keeps the old file: change the values themselves too\n`,
      );
    });
  return recipients;
}
