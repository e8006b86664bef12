// Loaded by `fleetbook demo` only (src/cli/demo.ts), so no other command loads the lab or yaml.
import { readFile, writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { labStatus, labUp } from '../lab/index.ts';
import { useColor } from '../reporter/color.ts';
import { liveTerminal } from '../reporter/live.ts';
import { Redactor } from '../reporter/redact.ts';
import { terminalReporter } from '../reporter/terminal.ts';
import { runPlaybook } from '../runner/run.ts';
import { generateIdentityFile, readIdentity } from '../secrets/identity.ts';
import { migrate } from '../secrets/manage.ts';
import { setSecret } from '../secrets/store.ts';
import { exists, legacyFile, secretsFile } from '../secrets/vault.ts';

const PLAYBOOK = 'playbooks/django-production.ts';
const INVENTORY = 'inventories/lab-django.yaml';
const ENVIRONMENT = 'lab';

/**
 * The demo a newcomer runs first: a 3-host lab, the Django production playbook with the
 * development inventory's vars pointed at the lab's hosts and smarthost, a dry run with diffs,
 * the real run, and a second run that must change nothing.
 */
export async function runDemo(hostCount: string): Promise<void> {
  const say = (s: string): void => {
    process.stdout.write(`\n\x1b[1m== ${s}\x1b[0m\n`);
  };
  say(`starting a ${hostCount}-host lab (the first time builds a Debian base: about a minute)`);
  const want = Number(hostCount);
  // A lab that is already larger keeps its hosts (tests or a benchmark may be using them).
  const running = (await labStatus())?.hosts.length ?? 0;
  const info = await labUp({
    count: Math.max(want, running),
    log: (l) => process.stderr.write(`${l}\n`),
  });
  const lab = parse(await readFile(info.inventoryPath, 'utf8')) as {
    defaults: unknown;
    hosts: Record<string, unknown>;
  };
  const dev = parse(await readFile('inventories/development.yaml', 'utf8')) as {
    vars: Record<string, unknown>;
  };
  const hosts = info.hosts.slice(0, want).map((h) => h.name);
  await writeFile(
    INVENTORY,
    `# Written by \`fleetbook demo\`: the lab's hosts with the development inventory's vars.\n${stringify(
      {
        environment: ENVIRONMENT,
        defaults: lab.defaults,
        vars: {
          ...dev.vars,
          smarthost: {
            host: info.smarthost.host,
            port: info.smarthost.port,
            user: info.smarthost.user,
          },
        },
        hosts: Object.fromEntries(hosts.map((h) => [h, lab.hosts[h]])),
        groups: { django: { hosts } },
      },
    )}`,
  );
  if ((await readIdentity()) === undefined) {
    const { file, publicKey } = await generateIdentityFile();
    say(`created your age identity ${file} (${publicKey}): the lab's secrets are encrypted to it`);
  }
  // A lab from before secrets were encrypted: its plain file is taken over, not left behind.
  if (!(await exists(secretsFile(ENVIRONMENT))) && (await exists(legacyFile(ENVIRONMENT)))) {
    const { from, to } = await migrate(ENVIRONMENT);
    say(`encrypted the lab's secrets from ${from} into ${to}`);
  }
  await setSecret(ENVIRONMENT, 'smarthost_password', info.smarthost.password);
  const redactor = new Redactor();
  redactor.add(info.smarthost.password);
  const emit = (diff: boolean) =>
    terminalReporter((s) => process.stdout.write(s), redactor, {
      diff,
      color: useColor(),
      verbose: false,
      live: liveTerminal(),
    });
  const run = (check: boolean) =>
    runPlaybook(
      {
        playbook: PLAYBOOK,
        inventory: INVENTORY,
        check,
        forks: 20,
        rollback: true,
        acceptNewHostKeys: false,
        onSecret: (v) => {
          redactor.add(v);
        },
        redact: (t) => redactor.redact(t),
      },
      emit(check),
    );
  say(`dry run: fleetbook run ${PLAYBOOK} -i ${INVENTORY} --check --diff`);
  const dry = await run(true);
  say(`real run: fleetbook run ${PLAYBOOK} -i ${INVENTORY}`);
  const real = await run(false);
  say('again: a converged fleet reports nothing to change');
  const again = await run(false);
  say('where to look');
  process.stdout.write(
    [
      `  mail the smarthost received:   ls ${info.smarthost.mailDir}`,
      `  what each run did:             node bin/fleetbook.js runs; node bin/fleetbook.js show ${real.runId}`,
      `  undo the deployment:           node bin/fleetbook.js rollback ${real.runId}`,
      `  log in to a host:              ssh -i ${info.keyPath} -o UserKnownHostsFile=${info.knownHostsPath} root@${info.hosts[0]?.address ?? '127.0.1.1'}`,
      `  the site on a host:            journalctl -u fbdemo; ls /run/fbdemo/gunicorn.sock`,
      `  stop the lab:                  node bin/fleetbook.js lab down`,
    ].join('\n') + '\n',
  );
  process.exitCode = [dry, real, again].find((r) => r.exitCode !== 0)?.exitCode ?? 0;
}
