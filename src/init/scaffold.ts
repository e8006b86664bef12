/**
 * The files `fleetbook init` writes: a project that type-checks and dry-runs as it is. Kept as
 * data here, not as files beside the build, so the package carries them inside its JavaScript.
 */

export interface Scaffold {
  /** Path relative to the new project's directory, and its content. */
  readonly files: ReadonlyArray<readonly [path: string, content: string]>;
}

const inventory = (env: string, hosts: Record<string, string>, comment: string): string =>
  `# ${comment}
# Check before you change anything:
#   npx fleetbook run playbooks/site.ts -i inventories/${env}.yaml --check --diff
environment: ${env}
defaults:
  user: deploy
  become: true # connect as deploy, act as root through sudo -n
  key: ~/.ssh/id_ed25519
  knownHosts: ~/.ssh/known_hosts # host keys are always verified
vars:
  team: ${env}-ops
hosts:
${Object.entries(hosts)
  .map(([name, address]) => `  ${name}: { address: ${address} }`)
  .join('\n')}
`;

const PLAYBOOK = `// The site: what every host gets. Types come from fleetbook: a misspelled param is a tsc error.
import { definePlaybook, Type } from 'fleetbook';
import { ensureDir, templateFile } from 'fleetbook/tasks';
import { ensureLine } from '../tasks/ensure-line.ts';

export default definePlaybook({
  name: 'site',
  hosts: 'all', // a group, a host, a glob ("web*") or "all"
  // The vars this playbook reads, checked for every host before any connection.
  varsSchema: Type.Object({ team: Type.String({ minLength: 1 }) }),
  vars: { team: 'ops' }, // defaults; the inventory's vars win
  tasks: (host) => [
    ensureDir({ path: '/etc/fleetbook-site', mode: '0755' }),
    // templates/motd.ejs, found from this project whatever directory you run from
    templateFile({ src: 'motd.ejs', dest: '/etc/motd', mode: '0644' }),
    ensureLine({
      path: '/etc/fleetbook-site/managed-by',
      line: \`\${host.name}: \${host.vars.team}\`,
    }),
  ],
});
`;

const TASK = `// A custom task: typed params, a probe of the host, and a plan. Check mode, diffs, undo and
// the run journal come from fleetbook.
import { defineTask, fact, planFile, Type } from 'fleetbook';

export const ensureLine = defineTask({
  type: 'ensureLine',
  params: Type.Object(
    { path: Type.String({ pattern: '^/' }), line: Type.String() },
    { additionalProperties: false },
  ),
  describe: (p) => p.path,
  probe: (p) => ({ file: fact.file(p.path, 'content') }),
  plan: (p, { file }, _prepared, ctx) => {
    const text = file.content?.toString() ?? '';
    if (text.split('\\n').includes(p.line)) return { status: 'ok' };
    const change = planFile(ctx.host.name, file, {
      path: p.path,
      content: \`\${text}\${text === '' || text.endsWith('\\n') ? '' : '\\n'}\${p.line}\\n\`,
      mode: file.mode ?? '0644',
      owner: file.owner ?? 'root',
      group: file.group ?? 'root',
    });
    return change === null ? { status: 'ok' } : { status: 'change', changes: [change] };
  },
});
`;

const MOTD = `This is <%= host.name %> (<%= host.environment %>), managed by <%= team %> with fleetbook.
Changes made here by hand are overwritten by the next run.
`;

const TSCONFIG = `{
  "compilerOptions": {
    "target": "ES2023",
    "lib": ["ES2023"],
    // fleetbook loads these files as ES modules itself: nothing is emitted.
    "module": "preserve",
    "moduleResolution": "bundler",
    "allowImportingTsExtensions": true,
    "verbatimModuleSyntax": true,
    "noEmit": true,
    "strict": true,
    "noUncheckedIndexedAccess": true,
    "skipLibCheck": true,
    "types": ["node"]
  },
  "include": ["playbooks", "inventories", "tasks"]
}
`;

const README = (name: string): string => `# ${name}

Configuration of our hosts with [fleetbook](https://www.npmjs.com/package/fleetbook).

\`\`\`sh
npm install
npm run typecheck                                  # your playbooks and tasks, type-checked
npm run check:staging                              # dry run with diffs: changes nothing
npm run deploy:staging                             # the real run
\`\`\`

- \`inventories/\`: one file per environment (hosts, connection, vars). Put your hosts there.
- \`playbooks/site.ts\`: what every host gets.
- \`templates/\`: EJS templates for \`templateFile\`.
- \`tasks/\`: your own tasks, written like the built-in ones.
- Secrets: \`npx fleetbook secret keygen\` once (your age key, kept in ~/.config/fleetbook), then
  \`npx fleetbook secret set staging NAME\`: encrypted in \`secrets/staging.age\`, to commit. A
  teammate runs keygen and gives you the public key; add it with
  \`npx fleetbook secret recipients add staging age1...\`.
`;

const GITIGNORE = `node_modules/
# run journals and owed handlers of this machine: never committed (secrets/ is: it is encrypted)
.fleetbook/
secrets/*.lock
`;

/** The new project's files, for a package named `name` depending on fleetbook `version`. */
export function scaffold(name: string, version: string): Scaffold {
  const run = (env: string, check: boolean): string =>
    `fleetbook run playbooks/site.ts -i inventories/${env}.yaml${check ? ' --check --diff' : ''}`;
  const pkg = {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: {
      typecheck: 'tsc',
      'check:staging': run('staging', true),
      'deploy:staging': run('staging', false),
      'check:production': run('production', true),
      'deploy:production': run('production', false),
    },
    dependencies: { fleetbook: `^${version}` },
    devDependencies: { '@types/node': '^20.19.0', typescript: '^6.0.0' },
  };
  return {
    files: [
      ['package.json', `${JSON.stringify(pkg, null, 2)}\n`],
      ['tsconfig.json', TSCONFIG],
      ['.gitignore', GITIGNORE],
      ['README.md', README(name)],
      [
        'inventories/staging.yaml',
        inventory('staging', { staging1: '192.0.2.10' }, 'Staging: where a change goes first.'),
      ],
      [
        'inventories/production.yaml',
        inventory(
          'production',
          { web1: '192.0.2.20', web2: '192.0.2.21' },
          'Production: roll out with --serial 1 and --max-fail-percent 0 once staging is green.',
        ),
      ],
      ['playbooks/site.ts', PLAYBOOK],
      ['templates/motd.ejs', MOTD],
      ['tasks/ensure-line.ts', TASK],
    ],
  };
}
