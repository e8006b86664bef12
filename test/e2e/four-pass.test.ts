import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFile as execFileCb, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import xterm from '@xterm/headless';
import type { LabInfo } from '../../src/lab/index.ts';
import { serveAptRepo } from './apt-repo.ts';
import {
  assertHealthy,
  fleetbook,
  HOSTS,
  lab,
  loginAs,
  newKeyPair,
  onHost,
  ROOT,
  snapshot,
  spawnLimited,
  taskEnds,
} from './helpers.ts';

const [HOST] = HOSTS.fourPass;
let info: LabInfo;

before(async () => {
  info = await lab('fourPass');
});

// The host must be healthy after this file changed it, not merely "the task said ok".
after(() => assertHealthy([HOST]));

function run(fbCase: string, check: boolean, env: Record<string, string> = {}) {
  const args = [
    'run',
    'test/e2e/playbooks/four-pass.ts',
    '-i',
    info.inventoryPath,
    '--limit',
    HOST,
    '--diff',
    '--json',
  ];
  return fleetbook(check ? [...args, '--check'] : args, {
    FB_CASE: fbCase,
    FLEETBOOK_TEMPLATES: 'test/fixtures/templates',
    ...env,
  });
}

/** check -> would change (with this diff); apply -> changed; check -> ok, no diff; apply -> ok. */
async function fourPasses(
  fbCase: string,
  diff: RegExp,
  touched: readonly string[],
  after: (host: string) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const before = await snapshot(HOST, touched);
  const c1 = await run(fbCase, true, env);
  assert.equal(c1.code, 0, c1.stdout + c1.stderr);
  const e1 = taskEnds(c1);
  assert.ok(e1.length > 0);
  assert.ok(
    e1.some((e) => e.outcome === 'would-change'),
    JSON.stringify(e1),
  );
  assert.ok(
    e1.every((e) => e.outcome === 'would-change'),
    JSON.stringify(e1.map((e) => [e.task, e.outcome, e.message])),
  );
  assert.match(JSON.stringify(e1.flatMap((e) => e.diff)), diff);
  assert.equal(await snapshot(HOST, touched), before, '--check changed the host');

  const a1 = await run(fbCase, false, env);
  assert.equal(a1.code, 0, a1.stdout + a1.stderr);
  assert.deepEqual(
    taskEnds(a1).map((e) => e.outcome),
    e1.map(() => 'changed'),
  );
  await after(HOST);

  const c2 = await run(fbCase, true, env);
  assert.equal(c2.code, 0);
  const e2 = taskEnds(c2);
  assert.ok(
    e2.every((e) => e.outcome === 'ok' && e.diff.length === 0),
    JSON.stringify(e2),
  );
  const a2 = await run(fbCase, false, env);
  assert.equal(a2.code, 0);
  assert.ok(
    taskEnds(a2).every((e) => e.outcome === 'ok'),
    JSON.stringify(taskEnds(a2)),
  );
  changedBy = a1.events.find((e) => e.type === 'run-start')?.runId ?? '';
}

/** The run of the last fourPasses that made the changes, for a rollback test. */
let changedBy = '';

test('ensureDir: parents, mode and owner', () =>
  fourPasses(
    'ensureDir',
    /directory \/srv\/fb-e2e\/data\/cache \(0750 www-data:www-data\)/,
    ['/srv/fb-e2e', '/srv/fb-e2e/data/cache'],
    async (h) => {
      assert.equal(
        (await onHost(h, 'stat -c "%a %U %G" /srv/fb-e2e/data/cache')).trim(),
        '750 www-data www-data',
      );
      assert.equal((await onHost(h, 'stat -c "%a %U" /srv/fb-e2e')).trim(), '755 root');
    },
  ));

/**
 * Paths as `file` sees them: type, mode, owner, content hash or link target, and the mtime and
 * number of names (hard links) of what is not a symlink (a repointed link is made anew; its own
 * time is not kept).
 */
function fileState(paths: readonly string[]): Promise<string> {
  return onHost(
    HOST,
    paths
      .map(
        (p) =>
          `if [ -L '${p}' ]; then stat -c '%n %F %a %U %G' '${p}'; readlink '${p}'; elif [ -e '${p}' ]; then stat -c '%n %F %a %U %G %Y %h' '${p}'; [ ! -f '${p}' ] || sha256sum < '${p}'; else echo 'absent ${p}'; fi`,
      )
      .join('; '),
  );
}

test('file: absent (a file, a tree), link (new, repointed, forced over a file), hard, touch, directory; rollback puts back bytes, mode, owner and mtime', async () => {
  await onHost(
    HOST,
    [
      'rm -rf /etc/fb-file /srv/fb-file-tree /srv/fb-file-dir /var/log/fb-file.log',
      'mkdir -p /etc/fb-file /srv/fb-file-tree/sub',
      "printf 'old\n' > /etc/fb-file/old.conf && chown daemon:daemon /etc/fb-file/old.conf && chmod 0600 /etc/fb-file/old.conf && touch -d 2020-01-02 /etc/fb-file/old.conf",
      "printf 'deep\n' > /srv/fb-file-tree/sub/f && chown -R nobody /srv/fb-file-tree",
      "printf 'target\n' > /etc/fb-file/target.conf",
      "printf 'in the way\n' > /etc/fb-file/in-the-way && touch -d 2021-03-04 /etc/fb-file/in-the-way",
      'ln -s a /etc/fb-file/repoint',
    ].join(' && '),
  );
  const paths = [
    '/etc/fb-file/old.conf',
    '/srv/fb-file-tree',
    '/srv/fb-file-tree/sub/f',
    '/etc/fb-file/app.conf',
    '/etc/fb-file/repoint',
    '/etc/fb-file/in-the-way',
    '/etc/fb-file/target.conf',
    '/etc/fb-file/hard.conf',
    '/var/log/fb-file.log',
    '/srv/fb-file-dir',
  ];
  const before = await fileState(paths);
  await fourPasses(
    'file',
    /file \/etc\/fb-file\/old\.conf \(0600 daemon:daemon, 4 bytes\).*directory \/srv\/fb-file-tree and everything in it.*symlink \/etc\/fb-file\/repoint -> a.*symlink \/etc\/fb-file\/repoint -> b/,
    paths,
    async (h) => {
      assert.equal(
        await onHost(
          h,
          'ls /etc/fb-file; readlink /etc/fb-file/app.conf /etc/fb-file/repoint /etc/fb-file/in-the-way; [ /etc/fb-file/hard.conf -ef /etc/fb-file/target.conf ] && stat -c "%h %s" /etc/fb-file/hard.conf; stat -c "%a %U %G %s" /var/log/fb-file.log /srv/fb-file-dir; ls -d /srv/fb-file-tree 2>&1 || true',
        ),
        "app.conf\nhard.conf\nin-the-way\nrepoint\ntarget.conf\n/etc/fb-file/target.conf\nb\ntarget.conf\n2 7\n640 root adm 0\n750 root root 4096\nls: cannot access '/srv/fb-file-tree': No such file or directory\n",
      );
    },
  );
  const rb = await fleetbook(['rollback', changedBy]);
  assert.equal(rb.code, 0, rb.stdout + rb.stderr);
  assert.equal(await fileState(paths), before, 'the rollback did not put every path back');
});

test('lineInFile and blockInFile: a line replaced, one added after a match, one removed, a block added; rollback restores the file', async () => {
  await onHost(
    HOST,
    "printf 'PermitRootLogin yes\\n#Port 22\\nX11Forwarding yes\\nUsePAM yes\\n' > /etc/fb-edit.conf && chown root:adm /etc/fb-edit.conf && chmod 0640 /etc/fb-edit.conf && touch -d 2022-05-06 /etc/fb-edit.conf",
  );
  const before = await fileState(['/etc/fb-edit.conf']);
  await fourPasses(
    'lineInFile',
    /-PermitRootLogin yes.*\+PermitRootLogin no/,
    ['/etc/fb-edit.conf'],
    async (h) => {
      assert.equal(
        await onHost(h, 'cat /etc/fb-edit.conf; stat -c "%a %U %G" /etc/fb-edit.conf'),
        'PermitRootLogin no\n#Port 22\nPort 2222\nUsePAM yes\n# BEGIN FLEETBOOK MANAGED BLOCK\nMatch User git\n  AllowTcpForwarding no\n# END FLEETBOOK MANAGED BLOCK\n640 root adm\n',
      );
    },
  );
  const rb = await fleetbook(['rollback', changedBy]);
  assert.equal(rb.code, 0, rb.stdout + rb.stderr);
  assert.equal(
    await fileState(['/etc/fb-edit.conf']),
    before,
    'the rollback did not restore the file',
  );
});

test('ensureGroup: made with its gid, moved to another, removed with members; rollback makes each as it was', async () => {
  await onHost(
    HOST,
    'for g in fbgroup fbregid fbgone; do groupdel $g 2>/dev/null || true; done; groupadd --gid 1235 fbregid && groupadd --gid 1237 fbgone && gpasswd -M daemon,nobody fbgone >/dev/null',
  );
  const groups = () => onHost(HOST, 'getent group fbgroup fbregid fbgone || true');
  const before = await groups();
  await fourPasses(
    'ensureGroup',
    /group fbgroup \(gid 1234\).*"before":"1235","after":"1236"/,
    [],
    async () => {
      assert.equal(await groups(), 'fbgroup:x:1234:\nfbregid:x:1236:\n');
    },
  );
  const rb = await fleetbook(['rollback', changedBy]);
  assert.equal(rb.code, 0, rb.stdout + rb.stderr);
  assert.equal(await groups(), before);
  assert.match(before, /^fbgone:x:1237:daemon,nobody$/m);
});

test('cronJob: a job in /etc/cron.d that cron loads; an old one removed; rollback puts both back', async () => {
  await onHost(
    HOST,
    "rm -f /etc/cron.d/fb-e2e-sync; printf '@daily root true\\n' > /etc/cron.d/fb-e2e-old",
  );
  const files = ['/etc/cron.d/fb-e2e-sync', '/etc/cron.d/fb-e2e-old'];
  const before = await fileState(files);
  const since = Math.floor(Date.now() / 1000);
  await fourPasses('cronJob', /cron job \/etc\/cron\.d\/fb-e2e-old/, files, async (h) => {
    assert.equal(
      await onHost(h, 'cat /etc/cron.d/fb-e2e-sync; ls /etc/cron.d/fb-e2e-old 2>&1 || true'),
      "# Managed by fleetbook (cronJob fb-e2e-sync): local edits are overwritten.\nMAILTO=ops@example.org\n*/15 * * * * daemon test -d /var/tmp\nls: cannot access '/etc/cron.d/fb-e2e-old': No such file or directory\n",
    );
  });
  // cron reads /etc/cron.d every minute; a file it rejects is logged as such.
  assert.doesNotMatch(
    await onHost(HOST, `journalctl -u cron --since @${since} -o cat | grep -i 'fb-e2e' || true`),
    /bad|error|wrong/i,
  );
  const rb = await fleetbook(['rollback', changedBy]);
  assert.equal(rb.code, 0, rb.stdout + rb.stderr);
  assert.equal(await fileState(files), before);
});

test('hostname: /etc/hostname and the running name (a custom fact, simulated in check mode); rollback gives both back', async () => {
  const names = () => onHost(HOST, 'hostname; cat /etc/hostname');
  const before = await names();
  await fourPasses(
    'hostname',
    /"before":"lab1","after":"fb-renamed"/,
    ['/etc/hostname'],
    async () => {
      assert.equal(await names(), 'fb-renamed\nfb-renamed\n');
    },
  );
  const rb = await fleetbook(['rollback', changedBy]);
  assert.equal(rb.code, 0, rb.stdout + rb.stderr);
  assert.equal(await names(), before);
});

test('sysctl: a file in /etc/sysctl.d that systemd-sysctl applies, and the running values; rollback gives both back', async () => {
  const conf = '/etc/sysctl.d/60-fb-e2e.conf';
  const kernel = () => onHost(HOST, 'cat /proc/sys/fs/mqueue/msg_max /proc/sys/kernel/sem');
  await onHost(
    HOST,
    `echo 10 > /proc/sys/fs/mqueue/msg_max && echo '32000 1024000000 500 32000' > /proc/sys/kernel/sem && printf '# e2e\\nkernel.msgmnb = 32768\\n' > ${conf}`,
  );
  const machine = await readFile('/proc/sys/fs/mqueue/msg_max', 'utf8');
  const before = (await fileState([conf])) + (await kernel());
  await fourPasses(
    'sysctl',
    /"field":"fs.mqueue.msg_max","before":"10","after":"64".*"field":"kernel.sem","before":"32000 1024000000 500 32000","after":"250 32000 100 256".*-kernel.msgmnb = 32768/,
    [conf, '/proc/sys/fs/mqueue/msg_max', '/proc/sys/kernel/sem'],
    async (h) => {
      assert.equal(await kernel(), '64\n250\t32000\t100\t256\n');
      assert.equal(
        await onHost(h, `cat ${conf}`),
        '# e2e\nfs.mqueue.msg_max = 64\nkernel.sem = 250 32000 100 256\n',
      );
      // What a boot does with the file: systemd-sysctl sets the values again.
      await onHost(
        h,
        `echo 10 > /proc/sys/fs/mqueue/msg_max && /lib/systemd/systemd-sysctl ${conf}`,
      );
      assert.match(await kernel(), /^64\n/);
      // The host's own: this machine's value is not the host's.
      assert.equal(await readFile('/proc/sys/fs/mqueue/msg_max', 'utf8'), machine);
    },
  );
  const rb = await fleetbook(['rollback', changedBy]);
  assert.equal(rb.code, 0, rb.stdout + rb.stderr);
  assert.equal((await fileState([conf])) + (await kernel()), before);
  // The machine's own parameters are read-only in a host: --check says so, as the run would.
  const ro = await run('sysctlReadOnly', true);
  assert.equal(ro.code, 2, ro.stdout + ro.stderr);
  assert.match(
    JSON.stringify(taskEnds(ro)),
    /net.core.somaxconn is read-only on this host .*apply: false writes only the file/,
  );
});

test('timezone: /etc/localtime and /etc/timezone; date says the zone; rollback gives UTC back', async () => {
  const files = ['/etc/localtime', '/etc/timezone'];
  const before = await fileState(files);
  await fourPasses(
    'timezone',
    /symlink \/etc\/localtime -> \/usr\/share\/zoneinfo\/Europe\/Berlin/,
    files,
    async (h) => {
      assert.match(await onHost(h, 'date +%Z; cat /etc/timezone'), /^CES?T\nEurope\/Berlin\n$/);
    },
  );
  const rb = await fleetbook(['rollback', changedBy]);
  assert.equal(rb.code, 0, rb.stdout + rb.stderr);
  assert.equal(await fileState(files), before);
});

test('ensureUser: a new deploy user with a key, an existing one locked with its keys made exclusive; sshd lets the key in; rollback gives both back', async () => {
  const { key, pub, dir } = await newKeyPair();
  await onHost(
    HOST,
    [
      'userdel -r fbdeploy 2>/dev/null; userdel -r fbkeys 2>/dev/null; true',
      // A usable password (a hash no password matches) and a key someone else holds.
      "useradd -m -p '$6$fbsalt$fbhash' fbkeys",
      'install -d -m 0755 -o fbkeys -g fbkeys /home/fbkeys/.ssh',
      "printf 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOpsA9vJ7Yt0QpPvYbWKyVgx3cF1mJqjYm3l6o5yqv0X old@laptop\n' > /home/fbkeys/.ssh/authorized_keys",
      'chown fbkeys:fbkeys /home/fbkeys/.ssh/authorized_keys && chmod 0600 /home/fbkeys/.ssh/authorized_keys',
    ].join(' && '),
  );
  const state = () =>
    onHost(
      HOST,
      'getent passwd fbdeploy fbkeys; passwd -S fbkeys | cut -d" " -f1,2; ls -d /home/fbdeploy 2>&1; stat -c "%n %a %U" /home/fbkeys/.ssh /home/fbkeys/.ssh/authorized_keys; sha256sum < /home/fbkeys/.ssh/authorized_keys || true',
    );
  const before = await state();
  assert.notEqual(
    (await loginAs(info, HOST, 'fbkeys', key)).code,
    0,
    'the new key let fbkeys in before the run',
  );
  await fourPasses(
    'userAccess',
    /user fbdeploy \(regular.*authorized_keys.*"password","before":"unlocked","after":"locked"/,
    ['/home/fbkeys/.ssh/authorized_keys'],
    async (h) => {
      assert.equal(
        await onHost(
          h,
          'passwd -S fbdeploy | cut -d" " -f2; passwd -S fbkeys | cut -d" " -f2; cat /home/fbkeys/.ssh/authorized_keys; stat -c "%a" /home/fbkeys/.ssh /home/fbdeploy/.ssh/authorized_keys',
        ),
        `L\nL\n${pub}\n700\n600\n`,
      );
      // A locked password does not stop a key login (sshd goes through PAM, UsePAM yes).
      assert.deepEqual(await loginAs(info, HOST, 'fbdeploy', key), {
        code: 0,
        stdout: 'fbdeploy\n',
      });
      assert.deepEqual(await loginAs(info, HOST, 'fbkeys', key), { code: 0, stdout: 'fbkeys\n' });
    },
    { FB_KEY: pub },
  );
  const rb = await fleetbook(['rollback', changedBy]);
  assert.equal(rb.code, 0, rb.stdout + rb.stderr);
  assert.equal(await state(), before, 'the rollback did not give both users back as they were');
  assert.notEqual(
    (await loginAs(info, HOST, 'fbkeys', key)).code,
    0,
    'the key still lets fbkeys in',
  );
  await onHost(HOST, 'userdel -r fbkeys');
  await rm(dir, { recursive: true });
});

test('download: fetched by the host (curl) with its sha256 checked, replacing a file kept for undo; via the controller; never fetched again once there; a wrong hash refused; rollback gives all back', async () => {
  const files: Record<string, Buffer> = {
    '/tool.sh': Buffer.from('#!/bin/sh\necho fb-tool 2\n'),
    '/data.bin': Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256)),
  };
  const asked: string[] = [];
  const server = createServer((req, res) => {
    asked.push(req.url ?? '');
    const body = files[req.url ?? ''];
    res.writeHead(body === undefined ? 404 : 200).end(body);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const sha = (b: Buffer | undefined) =>
    createHash('sha256')
      .update(b ?? '')
      .digest('hex');
  const env = {
    FB_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    FB_SHA_TOOL: sha(files['/tool.sh']),
    FB_SHA_DATA: sha(files['/data.bin']),
  };
  try {
    await onHost(
      HOST,
      "rm -f /srv/fb-data.bin && printf '#!/bin/sh\\necho fb-tool 1\\n' > /usr/local/bin/fb-tool && chmod 0700 /usr/local/bin/fb-tool && touch -d 2023-01-02 /usr/local/bin/fb-tool",
    );
    const paths = ['/usr/local/bin/fb-tool', '/srv/fb-data.bin'];
    const before = await fileState(paths);
    await fourPasses(
      'download',
      /file \/usr\/local\/bin\/fb-tool \(0755 root:root, sha256 [0-9a-f]{64}\) from http/,
      paths,
      async (h) => {
        assert.equal(
          await onHost(
            h,
            'fb-tool; stat -c "%a %U %s" /usr/local/bin/fb-tool /srv/fb-data.bin; sha256sum < /srv/fb-data.bin',
          ),
          `fb-tool 2\n755 root 25\n644 www-data 70000\n${env.FB_SHA_DATA}  -\n`,
        );
      },
      env,
    );
    // The host fetched the tool once, on the first real run; the converged passes fetched nothing.
    assert.equal(asked.filter((u) => u === '/tool.sh').length, 1, asked.join(' '));
    const bad = await run('downloadBad', false, env);
    assert.equal(bad.code, 2, bad.stdout + bad.stderr);
    assert.match(
      bad.stdout + bad.stderr,
      /tool\.sh: sha256 is [0-9a-f]{64}, not 0{64}: refusing it/,
    );
    assert.equal(
      await onHost(HOST, 'fb-tool; ls -a /usr/local/bin | grep -c fleetbook || true'),
      'fb-tool 2\n0\n',
    );
    const rb = await fleetbook(['rollback', changedBy]);
    assert.equal(rb.code, 0, rb.stdout + rb.stderr);
    assert.equal(await fileState(paths), before, 'the rollback did not give the files back');
  } finally {
    server.close();
  }
});

/** Every path under these trees: type, mode, owner, mtime, and a regular file's sha256. */
function treeState(roots: readonly string[]): Promise<string> {
  return onHost(
    HOST,
    roots
      .map(
        (r) =>
          `if [ -e '${r}' ]; then find '${r}' -printf '%p %y %m %u:%g %T@\\n' | sort; find '${r}' -type f -exec sha256sum {} + | sort; else echo 'absent ${r}'; fi`,
      )
      .join('; '),
  );
}

test('unarchive: a tarball fetched by the host into a new directory, stripped and owned; a zip from the controller over a directory, its other files kept; never fetched again; rollback gives the old trees back', async () => {
  const execFile = promisify(execFileCb);
  const work = await mkdtemp(path.join(tmpdir(), 'fb-unar-'));
  await mkdir(path.join(work, 'app-1.0/bin'), { recursive: true });
  await writeFile(path.join(work, 'app-1.0/bin/app'), '#!/bin/sh\necho fb-app 1.0\n');
  await chmod(path.join(work, 'app-1.0/bin/app'), 0o755);
  await writeFile(path.join(work, 'app-1.0/README'), 'app 1.0\n');
  await execFile('tar', ['-czf', 'app-1.0.tar.gz', 'app-1.0'], { cwd: work });
  await mkdir(path.join(work, 'site/css'), { recursive: true });
  await writeFile(path.join(work, 'site/index.html'), '<h1>new</h1>\n');
  await writeFile(path.join(work, 'site/css/site.css'), 'h1 { color: red }\n');
  await execFile(
    'python3',
    ['-m', 'zipfile', '-c', path.join(work, 'site.zip'), 'index.html', 'css'],
    {
      cwd: path.join(work, 'site'),
    },
  );
  const tgz = await readFile(path.join(work, 'app-1.0.tar.gz'));
  const asked: string[] = [];
  const server = createServer((req, res) => {
    asked.push(req.url ?? '');
    res.writeHead(req.url === '/app-1.0.tar.gz' ? 200 : 404).end(tgz);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const env = {
    FB_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    FB_SHA_TGZ: createHash('sha256').update(tgz).digest('hex'),
    FB_ZIP: path.join(work, 'site.zip'),
  };
  try {
    await onHost(
      HOST,
      "apt-get purge -y -q curl unzip >/dev/null 2>&1; rm -rf /srv/fb-rel /srv/fb-site && mkdir -p /srv/fb-site && printf '<h1>old</h1>\\n' > /srv/fb-site/index.html && echo keep > /srv/fb-site/keep.txt && chmod 0750 /srv/fb-site && touch -d 2023-01-02 /srv/fb-site/index.html",
    );
    const roots = ['/srv/fb-rel', '/srv/fb-site'];
    const before = await treeState(roots);
    await fourPasses(
      'unarchive',
      /\/srv\/fb-rel\/1\.0: app-1\.0\.tar\.gz \(sha256 [0-9a-f]{64}\) from http:\/\/127\.0\.0\.1:\d+\/app-1\.0\.tar\.gz unpacked, 1 leading component\(s\) stripped, owned by www-data:www-data.*\/srv\/fb-site: site\.zip \(sha256 [0-9a-f]{64}\) from controller file .*site\.zip unpacked, owned by root:root; what it holds replaces what is there/,
      roots,
      async (h) => {
        assert.equal(
          await onHost(
            h,
            '/srv/fb-rel/1.0/bin/app; stat -c "%n %a %U" /srv/fb-rel/1.0 /srv/fb-rel/1.0/bin/app /srv/fb-site; cat /srv/fb-site/index.html /srv/fb-site/keep.txt /srv/fb-site/css/site.css; ls -A /srv/fb-rel; ls -A /srv/fb-site',
          ),
          'fb-app 1.0\n/srv/fb-rel/1.0 755 www-data\n/srv/fb-rel/1.0/bin/app 755 www-data\n/srv/fb-site 750 root\n<h1>new</h1>\nkeep\nh1 { color: red }\n1.0\n.fleetbook-unarchive\ncss\nindex.html\nkeep.txt\n',
        );
      },
      env,
    );
    // The host fetched the tarball once, on the first real run; the converged passes fetched nothing.
    assert.deepEqual(asked, ['/app-1.0.tar.gz']);
    const rb = await fleetbook(['rollback', changedBy]);
    assert.equal(rb.code, 0, rb.stdout + rb.stderr);
    assert.equal(await treeState(roots), before, 'the rollback did not give the trees back');
  } finally {
    server.close();
    await rm(work, { recursive: true });
  }
});

/** A repository on the controller, served to the lab by git daemon on loopback. */
async function serveGitRepo(): Promise<{
  url: string;
  commit: (file: string, text: string, tag?: string) => Promise<string>;
  close: () => Promise<void>;
}> {
  const execFile = promisify(execFileCb);
  const work = await mkdtemp(path.join(tmpdir(), 'fb-git-'));
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'fb',
    GIT_AUTHOR_EMAIL: 'fb@example.org',
    GIT_COMMITTER_NAME: 'fb',
    GIT_COMMITTER_EMAIL: 'fb@example.org',
  };
  const git = async (...args: string[]) =>
    (await execFile('git', args, { cwd: path.join(work, 'src'), env })).stdout.trim();
  await execFile('git', ['init', '-q', '-b', 'main', path.join(work, 'src')]);
  await execFile('git', ['init', '-q', '--bare', path.join(work, 'app.git')]);
  await git('remote', 'add', 'origin', path.join(work, 'app.git'));
  const commit = async (file: string, text: string, tag?: string) => {
    await writeFile(path.join(work, 'src', file), text);
    await git('add', file);
    await git('commit', '-q', '-m', `${file}: ${text.trim()}`);
    if (tag !== undefined) await git('tag', '-a', '-m', tag, tag);
    await git('push', '-q', '--follow-tags', 'origin', 'main');
    return git('rev-parse', 'HEAD');
  };
  const probe = createServer();
  await new Promise<void>((ok) => probe.listen(0, '127.0.0.1', ok));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((ok) =>
    probe.close(() => {
      ok();
    }),
  );
  const daemon = spawn(
    'git',
    [
      'daemon',
      '--reuseaddr',
      '--export-all',
      '--informative-errors',
      `--base-path=${work}`,
      '--listen=127.0.0.1',
      `--port=${port}`,
      work,
    ],
    { stdio: 'ignore' },
  );
  const url = `git://127.0.0.1:${port}/app.git`;
  return {
    url,
    commit,
    close: async () => {
      daemon.kill();
      await rm(work, { recursive: true, force: true });
    },
  };
}

test('gitCheckout: a shallow clone of a branch, owned by the app user; a checkout moved from one tag to another; a branch that moves on the remote is a would-change in check mode; rollback gives the old checkout back', async () => {
  const repo = await serveGitRepo();
  try {
    await repo.commit('app.txt', 'one\n', 'v1');
    const v2 = await repo.commit('app.txt', 'two\n', 'v2');
    const main = await repo.commit('NEWS', 'main moved on\n');
    await onHost(
      HOST,
      `(dpkg -s git >/dev/null 2>&1 || apt-get install -y -q git >/dev/null) && rm -rf /srv/fb-git-main /srv/fb-git-tag && git clone -q ${repo.url} /srv/fb-git-tag && git -C /srv/fb-git-tag checkout -q v1`,
    );
    const env = { FB_GIT: repo.url };
    const checkout = (dir: string) =>
      onHost(
        HOST,
        `git -c safe.directory='*' -C ${dir} rev-parse HEAD; git -c safe.directory='*' -C ${dir} rev-parse --abbrev-ref HEAD; stat -c '%U:%G' ${dir}/app.txt; cat ${dir}/app.txt`,
      );
    const before = await checkout('/srv/fb-git-tag');
    await fourPasses(
      'gitCheckout',
      new RegExp(
        `/srv/fb-git-main: checkout of git://127.0.0.1:\\d+/app.git at main \\(${main}\\), depth 1, owned by www-data:www-data.*"before":"[0-9a-f]{40}","after":"v2 \\(${v2}\\)"`,
      ),
      ['/srv/fb-git-main', '/srv/fb-git-tag'],
      async () => {
        assert.equal(await checkout('/srv/fb-git-main'), `${main}\nmain\nwww-data:www-data\ntwo\n`);
        assert.equal(
          await onHost(HOST, "git -c safe.directory='*' -C /srv/fb-git-main rev-list --count HEAD"),
          '1\n',
        );
        assert.equal(await checkout('/srv/fb-git-tag'), `${v2}\nHEAD\nroot:root\ntwo\n`);
      },
      env,
    );
    const applied = changedBy;
    const moved = await repo.commit('NEWS', 'main moved again\n');
    const c = await run('gitCheckout', true, env);
    assert.equal(c.code, 0, c.stdout + c.stderr);
    assert.deepEqual(
      taskEnds(c).map((e) => [e.outcome, JSON.stringify(e.diff).includes(moved)]),
      [
        ['would-change', true],
        ['ok', false],
      ],
    );
    const rb = await fleetbook(['rollback', applied]);
    assert.equal(rb.code, 0, rb.stdout + rb.stderr);
    assert.equal(
      await onHost(HOST, 'ls -d /srv/fb-git-main 2>&1 || true'),
      "ls: cannot access '/srv/fb-git-main': No such file or directory\n",
    );
    assert.equal(await checkout('/srv/fb-git-tag'), before);
  } finally {
    await repo.close();
    await onHost(HOST, 'rm -rf /srv/fb-git-main /srv/fb-git-tag');
  }
});

test('aptRepository: a signed repository (deb822, Signed-By its own key, fetched by URL and its fingerprint checked), its index refreshed alone; a package from it at a pinned version, then upgraded by state latest; rollbacks give 1.0 back, then remove both', async () => {
  const repo = await serveAptRepo(['1.0', '1.1']);
  try {
    const env = { FB_REPO: repo.url, FB_REPO_FPR: repo.fingerprint };
    const files = ['/etc/apt/sources.list.d/fb-e2e.sources', '/etc/apt/keyrings/fb-e2e.asc'];
    const before = `${await fileState(files)}${await onHost(HOST, 'dpkg-query -W fb-hello 2>&1 || true')}`;
    await fourPasses(
      'aptRepository',
      /Signed-By: \/etc\/apt\/keyrings\/fb-e2e\.asc.*apt-get update \(fb-e2e only\).*package fb-hello \(1\.0\)/,
      files,
      async (h) => {
        assert.equal(
          await onHost(h, 'fb-hello; apt-cache policy fb-hello | grep -c "1\\.1"'),
          'hello 1.0\n2\n',
        );
      },
      env,
    );
    // The repository's index was fetched once: the passes after it asked for nothing again.
    assert.equal(repo.asked.filter((p) => p === '/InRelease').length, 1, repo.asked.join(' '));
    const addedBy = changedBy;

    // state: latest, on a fresh index: check mode names the version the repository offers.
    await onHost(
      HOST,
      'mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/update-success-stamp',
    );
    await fourPasses(
      'aptLatest',
      /~ package fb-hello 1\.0 -> 1\.1|"text":"package fb-hello 1\.0 -> 1\.1"/,
      files,
      async (h) => {
        assert.equal(await onHost(h, 'fb-hello'), 'hello 1.1\n');
      },
      env,
    );
    const back = await fleetbook(['rollback', changedBy]);
    assert.equal(back.code, 0, back.stdout + back.stderr);
    assert.equal(await onHost(HOST, 'fb-hello'), 'hello 1.0\n');

    const rb = await fleetbook(['rollback', addedBy]);
    assert.equal(rb.code, 0, rb.stdout + rb.stderr);
    assert.equal(
      `${await fileState(files)}${await onHost(HOST, 'dpkg-query -W fb-hello 2>&1 || true')}`,
      before,
    );
  } finally {
    await repo.close();
  }
});

test('systemdUnit: a verified unit file, reloaded, then started and enabled; an old one removed; a bad one refused in check mode; rollback gives all back', async () => {
  await onHost(
    HOST,
    "printf '[Service]\\nType=oneshot\\nExecStart=/bin/true\\n' > /etc/systemd/system/fb-old.service && systemctl daemon-reload",
  );
  const files = ['/etc/systemd/system/fb-e2e.service', '/etc/systemd/system/fb-old.service'];
  const units = () =>
    onHost(
      HOST,
      'systemctl show -p Id -p LoadState -p ActiveState -p UnitFileState fb-e2e.service fb-old.service',
    );
  const before = `${await fileState(files)}${await units()}`;
  const bad = await run('systemdUnitBad', true);
  assert.notEqual(bad.code, 0, 'check mode accepted a unit whose ExecStart does not exist');
  assert.match(bad.stdout + bad.stderr, /\/bin\/nosuch is not executable/);
  assert.equal(
    await onHost(HOST, 'ls /etc/systemd/system/fb-bad.service 2>&1 || true'),
    "ls: cannot access '/etc/systemd/system/fb-bad.service': No such file or directory\n",
  );
  await fourPasses(
    'systemdUnit',
    /ExecStart=\/bin\/sleep infinity.*enable fb-e2e.service.*unit file \/etc\/systemd\/system\/fb-old.service/,
    files,
    async (h) => {
      assert.equal(
        await onHost(
          h,
          'systemctl is-active fb-e2e.service; systemctl is-enabled fb-e2e.service; systemctl show -p LoadState fb-old.service',
        ),
        'active\nenabled\nLoadState=not-found\n',
      );
    },
  );
  const rb = await fleetbook(['rollback', changedBy]);
  assert.equal(rb.code, 0, rb.stdout + rb.stderr);
  assert.equal(
    `${await fileState(files)}${await units()}`,
    before,
    'the rollback did not give the units back',
  );
  await onHost(HOST, 'rm /etc/systemd/system/fb-old.service && systemctl daemon-reload');
});

test('ensureUser: a system user', () =>
  fourPasses('ensureUser', /user fbapp/, [], async (h) => {
    assert.match(
      await onHost(h, 'getent passwd fbapp'),
      /^fbapp:x:\d+:\d+::\/var\/opt\/fbapp:\/usr\/sbin\/nologin$/m,
    );
  }));

test('templateFile: rendered without HTML escaping, attributes set', () =>
  fourPasses(
    'templateFile',
    /\+server_name a&b\.example\.org;/,
    ['/etc/fb-site.conf'],
    async (h) => {
      assert.equal(
        await onHost(h, 'cat /etc/fb-site.conf'),
        '# managed by fleetbook for lab1 (development)\nserver_name a&b.example.org;\nupstream unix:/run/app.sock;\n',
      );
      assert.equal(
        (await onHost(h, 'stat -c "%a %U %G" /etc/fb-site.conf')).trim(),
        '640 root www-data',
      );
    },
  ));

test('copyFile: content', () =>
  fourPasses('copyFile', /\+hello from fleetbook/, ['/etc/fb-hello.txt'], async (h) => {
    assert.equal(await onHost(h, 'cat /etc/fb-hello.txt'), 'hello from fleetbook\n');
  }));

test('cronDaily: an executable job run-parts will run', () =>
  fourPasses(
    'cronDaily',
    /\/etc\/cron\.daily\/fb-e2e-job/,
    ['/etc/cron.daily/fb-e2e-job'],
    async (h) => {
      assert.match(
        await onHost(h, 'run-parts --test /etc/cron.daily'),
        /^\/etc\/cron\.daily\/fb-e2e-job$/m,
      );
    },
  ));

test('aptInstall: a package really installed with apt at the version pinned, and held; rollback purges it', async () => {
  const tree = () =>
    onHost(HOST, "dpkg-query -W -f='${Status} ${Version}\\n' tree 2>&1 || true; apt-mark showhold");
  const before = await tree();
  await fourPasses(
    'aptInstall',
    /package tree \(2\.1\.0-1\).*apt-mark hold tree/,
    [],
    async (h) => {
      assert.equal(
        await onHost(h, "dpkg-query -W -f='${Status} ${Version}\\n' tree; apt-mark showhold"),
        'hold ok installed 2.1.0-1\ntree\n',
      );
    },
  );
  const rb = await fleetbook(['rollback', changedBy]);
  assert.equal(rb.code, 0, rb.stdout + rb.stderr);
  assert.equal(await tree(), before);
});

test('command: guarded by creates', () =>
  fourPasses('command', /echo built/, ['/var/tmp/fb-built'], async (h) => {
    assert.equal(await onHost(h, 'cat /var/tmp/fb-built'), 'built\n');
  }));

test('a task that runs over 10 s: a status line says what runs on which host while it does', async () => {
  const r = await fleetbook(
    ['run', 'test/e2e/playbooks/four-pass.ts', '-i', info.inventoryPath, '--limit', HOST],
    { FB_CASE: 'slow' },
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const lines = r.stdout.split('\n');
  const status = lines.findIndex((l) =>
    new RegExp(`^\\.\\.\\. 0/1 hosts done; running: ${HOST} command sleep 13 \\(1\\d s\\)$`).test(
      l,
    ),
  );
  assert.ok(status >= 0, r.stdout);
  // Before the task's own line, which comes when it ends.
  assert.ok(status < lines.findIndex((l) => / changed +command sleep 13$/.test(l)), r.stdout);
});

test('on a terminal: a live area shows the running task and its time, and is gone at the end', async () => {
  // A real pseudo-terminal (script(1)) of a set size, as a person's; CI's own log is not one.
  const cmd = `stty cols 100 rows 30; exec ${process.execPath} bin/fleetbook.js run test/e2e/playbooks/four-pass.ts -i ${info.inventoryPath} --limit ${HOST}`;
  const r = await spawnLimited('script', ['-qec', cmd, '/dev/null'], {
    cwd: ROOT,
    env: { ...process.env, FB_CASE: 'slow', CI: '', NO_COLOR: '1', TERM: 'xterm-256color' },
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  // Drawn and redrawn while the task ran: the host's task with its time, under the run's clock.
  assert.match(r.stdout, /0\/1 hosts done · 0:1\d/);
  assert.match(r.stdout, new RegExp(`  ${HOST}  command sleep 13 \\(1[0-2] s\\)`));
  assert.doesNotMatch(r.stdout, /\.\.\. 0\/1 hosts done; running/, 'no status line on a terminal');
  // What the person sees at the end: the task's line and the recap, the live area erased.
  const term = new xterm.Terminal({ cols: 100, rows: 30, allowProposedApi: true });
  await new Promise<void>((res) => {
    term.write(r.stdout, res);
  });
  const b = term.buffer.active;
  const screen = Array.from({ length: b.length }, (_, i) => b.getLine(i)?.translateToString(true));
  assert.ok(
    screen.some((l) => / changed +command sleep 13$/.test(l ?? '')),
    screen.join('\n'),
  );
  assert.ok(
    screen.some((l) => l?.startsWith('RECAP')),
    screen.join('\n'),
  );
  assert.ok(!screen.some((l) => l?.includes('hosts done')), screen.join('\n'));
  term.dispose();
});

test('serviceRestart: runs once as a notified handler, and not when nothing changed', async () => {
  const pid = async () => (await onHost(HOST, 'systemctl show -p MainPID --value cron')).trim();
  const pid0 = await pid();
  await fourPasses('serviceRestart', /restart cron/, ['/etc/default/fb-cron-note'], async () => {
    assert.notEqual(await pid(), pid0, 'cron was not restarted');
  });
  const c = await run('serviceRestart', false);
  assert.ok(!taskEnds(c).some((e) => e.handler), 'handler ran without a change');
});
