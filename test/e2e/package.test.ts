// fleetbook as a user gets it: the tarball `npm pack` makes, installed into new projects (ESM from
// `fleetbook init`, and a CommonJS one from `npm init -y`), type-checked with tsc and run on a lab
// host (HOSTS.package) from another directory than the project's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabInfo } from '../../src/lab/index.ts';
import { scaffold } from '../../src/init/scaffold.ts';
import { assertHealthy, HOSTS, lab, onHost, ROOT, spawnLimited } from './helpers.ts';

const host = HOSTS.package[0];
let info: LabInfo;
let work: string;
let tarball: string;
let packed: string[];

interface Exec {
  code: number;
  stdout: string;
  /** stdout, then stderr */
  out: string;
}

/** Run a command the way a user types it, in `cwd`. */
async function exec(cmd: string, args: readonly string[], cwd: string): Promise<Exec> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  // `node --test` and this runner's --conditions must not leak into the user's processes.
  delete env['NODE_TEST_CONTEXT'];
  delete env['NODE_OPTIONS'];
  const r = await spawnLimited(cmd, args, { cwd, env });
  return { code: r.code, stdout: r.stdout, out: r.stdout + r.stderr };
}

/** Its stdout, once it exited 0 (else the test fails with all its output). */
async function ok(cmd: string, args: readonly string[], cwd: string): Promise<string> {
  const r = await exec(cmd, args, cwd);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')} (in ${cwd}):\n${r.out}`);
  return r.stdout;
}

before(async () => {
  info = await lab('package');
  work = await mkdtemp(join(tmpdir(), 'fleetbook-package-'));
  const json = await ok('npm', ['pack', '--json', '--pack-destination', work], ROOT);
  const [meta] = JSON.parse(json.slice(json.indexOf('['))) as [
    { filename: string; files: { path: string }[] },
  ];
  tarball = join(work, meta.filename);
  packed = meta.files.map((f) => f.path);
});

after(async () => {
  await assertHealthy(HOSTS.package);
  await rm(work, { recursive: true, force: true });
});

test('the tarball holds the compiled engine, its types and the CLI, and no test, bench or CI file', () => {
  for (const f of [
    'package.json',
    'README.md',
    'bin/fleetbook.js',
    'dist/bundle/index.js',
    'dist/src/index.d.ts',
    'dist/bundle/tasks.js',
    'dist/tasks/index.d.ts',
    'dist/bundle/cli.js',
  ])
    assert.ok(packed.includes(f), `${f} is missing from the tarball`);
  const stray = packed.filter(
    (f) =>
      /^(test|bench|scripts|\.ci|playbooks|inventories|templates|src|tasks)\//.test(f) ||
      /(^|\/)tsconfig.*\.json$|\.test\.|\.tsbuildinfo$/.test(f) ||
      (f.endsWith('.ts') && !f.endsWith('.d.ts')) ||
      // tsc's JavaScript: the bundle replaces it, only its .d.ts files are the package's types
      (f.endsWith('.js') && !/^(dist\/bundle|bin)\//.test(f)),
  );
  assert.deepEqual(stray, [], 'files a user does not need');
});

test('every package the bundled engine and its types import is a dependency', async () => {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const used = new Set<string>();
  // The bundle holds the pure-JavaScript packages; what it leaves external, and every package
  // the .d.ts files name, must be installed with fleetbook.
  for (const f of packed.filter((p) => p.endsWith('.js') || p.endsWith('.d.ts'))) {
    const text = await readFile(join(ROOT, f), 'utf8');
    // static imports, re-exports and dynamic imports of a package (not a relative path)
    for (const m of text.matchAll(
      /^(?:import|export)\b[^;]*?\bfrom\s*["']([@a-z][\w./@-]*)["']|\bimport\(["']([@a-z][\w./@-]*)["']\)/gm,
    )) {
      const spec = m[1] ?? m[2] ?? '';
      if (spec.startsWith('node:') || spec === 'fleetbook' || spec.startsWith('fleetbook/'))
        continue;
      used.add(
        spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? ''),
      );
    }
  }
  assert.ok(used.has('node-ssh') && used.has('tsx'), 'imports of the bundle were found');
  assert.ok(used.has('typebox'), 'imports of the types were found');
  for (const dep of used)
    assert.ok(dep in pkg.dependencies, `${dep} is imported but not a dependency`);
});

test('fleetbook init, then: tsc finds 0 errors, a misspelled param is a tsc error at its line, check and real runs work from any directory', async () => {
  const proj = join(work, 'my-fleet');
  await ok('node', [join(ROOT, 'bin/fleetbook.js'), 'init', proj], work);
  const again = await exec('node', [join(ROOT, 'bin/fleetbook.js'), 'init', proj], work);
  assert.equal(again.code, 1);
  assert.match(again.out, /already has package\.json, tsconfig\.json.*nothing was written/);
  await ok('npm', ['install', '--no-audit', '--no-fund', tarball], proj);
  await ok('npx', ['tsc'], proj);

  await writeFile(
    join(proj, 'playbooks/typo.ts'),
    "import { definePlaybook } from 'fleetbook';\nimport { ensureDir } from 'fleetbook/tasks';\n\n" +
      "export default definePlaybook({\n  name: 'typo',\n  hosts: 'all',\n" +
      "  tasks: [ensureDir({ path: '/srv/x', mdoe: '0755' })],\n});\n",
  );
  const typo = await exec('npx', ['tsc'], proj);
  assert.notEqual(typo.code, 0);
  assert.match(typo.out, /playbooks\/typo\.ts\(7,\d+\): error TS\d+: .*'mdoe' does not exist/);
  await rm(join(proj, 'playbooks/typo.ts'));

  // From a directory inside the project: templates and the state directory are the project's.
  const from = join(proj, 'playbooks');
  const run = (...extra: string[]) =>
    exec(
      'npx',
      ['fleetbook', 'run', 'site.ts', '-i', info.inventoryPath, '--limit', host, ...extra],
      from,
    );
  const check = await run('--check', '--diff');
  assert.equal(check.code, 0, check.out);
  assert.match(check.out, /would change/);
  assert.match(check.out, /\+This is lab42 \(development\), managed by ops with fleetbook\./);
  assert.equal(
    (await onHost(host, 'test -e /etc/fleetbook-site && echo yes || echo no')).trim(),
    'no',
  );
  const real = await run();
  assert.equal(real.code, 0, real.out);
  assert.match(
    await onHost(host, 'cat /etc/motd'),
    /^This is lab42 \(development\), managed by ops/,
  );
  assert.equal((await onHost(host, 'cat /etc/fleetbook-site/managed-by')).trim(), 'lab42: ops');
  const second = await run();
  assert.match(second.out, /lab42 +3 +0 +0 +0 +ok/, second.out);
  assert.ok(
    (await readdir(join(proj, '.fleetbook/runs'))).length >= 3,
    'runs are kept in the project',
  );
});

test('a CommonJS project (npm init -y) type-checks and runs its TypeScript playbook', async () => {
  const proj = join(work, 'cjs');
  await mkdir(proj);
  await ok('npm', ['init', '-y'], proj);
  await ok(
    'npm',
    ['install', '--no-audit', '--no-fund', tarball, 'typescript@^6', '@types/node@^20'],
    proj,
  );
  const tsconfig = scaffold('cjs', '0').files.find(([p]) => p === 'tsconfig.json')?.[1] ?? '';
  await writeFile(
    join(proj, 'tsconfig.json'),
    tsconfig.replace(/"include": \[.*\]/, '"include": ["*.ts"]'),
  );
  await writeFile(
    join(proj, 'site.ts'),
    "import { definePlaybook } from 'fleetbook';\nimport { copyFile } from 'fleetbook/tasks';\n\n" +
      "export default definePlaybook({\n  name: 'cjs',\n  hosts: 'all',\n" +
      "  tasks: [copyFile({ dest: '/etc/fleetbook-cjs', content: 'from a CommonJS project\\n' })],\n});\n",
  );
  await ok('npx', ['tsc'], proj);
  const r = await exec(
    'npx',
    ['fleetbook', 'run', 'site.ts', '-i', info.inventoryPath, '--limit', host],
    proj,
  );
  assert.equal(r.code, 0, r.out);
  assert.equal((await onHost(host, 'cat /etc/fleetbook-cjs')).trim(), 'from a CommonJS project');
});

test('a role in its own package, built with tsc and installed into another project, deploys with its own template', async () => {
  // The role's author: build and pack it, fleetbook a peer dependency.
  const rolePkg = join(work, 'fleetbook-role-motd');
  await cp(join(ROOT, 'test/fixtures/role-package'), rolePkg, { recursive: true });
  await ok(
    'npm',
    ['install', '--no-audit', '--no-fund', '-D', tarball, 'typescript@^6', '@types/node@^20'],
    rolePkg,
  );
  await ok('npm', ['run', 'build'], rolePkg);
  const packedRole = JSON.parse(
    await ok('npm', ['pack', '--json', '--pack-destination', work], rolePkg),
  ) as [{ filename: string; files: { path: string }[] }];
  const [roleMeta] = packedRole;
  assert.ok(
    roleMeta.files.some((f) => f.path === 'templates/motd.ejs'),
    'the template travels',
  );

  // Its user: a new project whose own templates/motd.ejs must not be the one used.
  const proj = join(work, 'uses-role');
  await ok('node', [join(ROOT, 'bin/fleetbook.js'), 'init', proj], work);
  await ok(
    'npm',
    ['install', '--no-audit', '--no-fund', tarball, join(work, roleMeta.filename)],
    proj,
  );
  const site = (vars: string) =>
    "import { definePlaybook } from 'fleetbook';\nimport { motd } from 'fleetbook-role-motd';\n\n" +
    `export default definePlaybook({\n  name: 'role',\n  hosts: 'all',\n  tasks: [motd(${vars})],\n});\n`;
  await writeFile(join(proj, 'playbooks/role.ts'), site("{ teem: 'ops', dest: '/etc/motd.role' }"));
  const typo = await exec('npx', ['tsc'], proj);
  assert.notEqual(typo.code, 0);
  assert.match(typo.out, /playbooks\/role\.ts\(7,\d+\): error TS\d+: .*'teem' does not exist/);
  await writeFile(join(proj, 'playbooks/role.ts'), site("{ team: 'ops', dest: '/etc/motd.role' }"));
  await ok('npx', ['tsc'], proj);

  const run = (...extra: string[]) =>
    exec(
      'npx',
      [
        'fleetbook',
        'run',
        'playbooks/role.ts',
        '-i',
        info.inventoryPath,
        '--limit',
        host,
        ...extra,
      ],
      proj,
    );
  const line = `Looked after by ops on ${host}: this line comes from the motd role package.`;
  const check = await run('--check', '--diff');
  assert.equal(check.code, 0, check.out);
  assert.match(check.out, /motd: templateFile \/etc\/motd\.role/);
  assert.ok(check.out.includes(`+${line}`), check.out);
  assert.match(check.out, /motd: stamp/);
  const real = await run();
  assert.equal(real.code, 0, real.out);
  assert.equal((await onHost(host, 'cat /etc/motd.role')).trim(), line);
  assert.match(await onHost(host, 'cat /etc/motd.role.stamp'), /^\d+\n$/, 'the handler ran');
  const again = await run();
  assert.match(again.out, new RegExp(`${host} +1 +0 +0 +0 +ok`), again.out);
  await onHost(host, 'rm -f /etc/motd.role /etc/motd.role.stamp');
});
