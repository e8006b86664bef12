// One playbook per built-in task, chosen by FB_CASE, for the Ansible-style four passes.
import { definePlaybook, type TaskEntry, type Task } from 'fleetbook';
import {
  aptInstall,
  aptRepository,
  command,
  copyFile,
  cronDaily,
  cronJob,
  download,
  ensureDir,
  ensureGroup,
  ensureUser,
  file,
  gitCheckout,
  hostname,
  lineInFile,
  blockInFile,
  serviceRestart,
  sysctl,
  systemdUnit,
  ensureService,
  templateFile,
  timezone,
  unarchive,
} from 'fleetbook/tasks';

const cases: Record<string, { tasks: TaskEntry[]; handlers?: Task[] }> = {
  ensureDir: {
    tasks: [
      ensureDir({
        path: '/srv/fb-e2e/data/cache',
        mode: '0750',
        owner: 'www-data',
        group: 'www-data',
      }),
    ],
  },
  ensureUser: { tasks: [ensureUser({ name: 'fbapp', home: '/var/opt/fbapp' })] },
  // A new deploy user with a key; an existing one (made by the test) locked, its keys made exclusive.
  // The test's signed repository (test/e2e/apt-repo.ts), then a package from it at a pinned version.
  get aptRepository() {
    return {
      tasks: [
        aptRepository({
          name: 'fb-e2e',
          uris: process.env.FB_REPO ?? '',
          suites: ['./'],
          keyUrl: `${process.env.FB_REPO ?? ''}key.asc`,
          fingerprint: process.env.FB_REPO_FPR ?? '',
        }),
        aptInstall({ packages: ['fb-hello=1.0'] }),
      ],
    };
  },
  // After aptRepository's case: the package at 1.0, upgraded to what the repository offers.
  aptLatest: { tasks: [aptInstall({ packages: ['fb-hello'], state: 'latest' })] },
  // A getter: its key comes from the test (FB_KEY), so it is built only when chosen.
  get userAccess() {
    return {
      tasks: [
        ensureUser({
          name: 'fbdeploy',
          system: false,
          passwordLocked: true,
          authorizedKeys: [process.env.FB_KEY ?? ''],
        }),
        ensureUser({
          name: 'fbkeys',
          system: false,
          passwordLocked: true,
          authorizedKeys: [process.env.FB_KEY ?? ''],
          exclusiveKeys: true,
        }),
      ],
    };
  },
  // A job every 15 minutes as daemon, with its environment; an old one removed (made by the test).
  cronJob: {
    tasks: [
      cronJob({
        name: 'fb-e2e-sync',
        schedule: '*/15 * * * *',
        user: 'daemon',
        command: 'test -d /var/tmp',
        env: { MAILTO: 'ops@example.org' },
      }),
      cronJob({ name: 'fb-e2e-old', state: 'absent' }),
    ],
  },
  hostname: { tasks: [hostname({ name: 'fb-renamed' })] },
  timezone: { tasks: [timezone({ name: 'Europe/Berlin' })] },
  // Parameters of the host's own IPC namespace (the lab makes them writable; see src/lab/sysctl.ts),
  // in a file the test writes first with a line to remove.
  sysctl: {
    tasks: [
      sysctl({ name: 'fs.mqueue.msg_max', value: 64, file: '/etc/sysctl.d/60-fb-e2e.conf' }),
      sysctl({
        name: 'kernel.sem',
        value: '250 32000 100 256',
        file: '/etc/sysctl.d/60-fb-e2e.conf',
      }),
      sysctl({ name: 'kernel.msgmnb', state: 'absent', file: '/etc/sysctl.d/60-fb-e2e.conf' }),
    ],
  },
  // The machine's own (the hosts share its network namespace): read-only in the lab.
  sysctlReadOnly: { tasks: [sysctl({ name: 'net.core.somaxconn', value: 8192 })] },
  // A group made with its gid, one moved to another gid, one removed (the test makes them first).
  ensureGroup: {
    tasks: [
      ensureGroup({ name: 'fbgroup', gid: 1234, system: false }),
      ensureGroup({ name: 'fbregid', gid: 1236 }),
      ensureGroup({ name: 'fbgone', state: 'absent' }),
    ],
  },
  // Lines and a block in an sshd_config-like file the test writes first (see four-pass.test.ts).
  lineInFile: {
    tasks: [
      lineInFile({
        path: '/etc/fb-edit.conf',
        regexp: '^#?PermitRootLogin',
        line: 'PermitRootLogin no',
      }),
      lineInFile({ path: '/etc/fb-edit.conf', line: 'Port 2222', insertAfter: '^#Port' }),
      lineInFile({ path: '/etc/fb-edit.conf', regexp: '^X11Forwarding', state: 'absent' }),
      blockInFile({
        path: '/etc/fb-edit.conf',
        block: 'Match User git\n  AllowTcpForwarding no',
        validate: 'grep -q "^Match User git$" %s',
      }),
    ],
  },
  // Every state of `file`, against what the test put on the host first (see four-pass.test.ts).
  file: {
    tasks: [
      file({ path: '/etc/fb-file/old.conf', state: 'absent' }),
      file({ path: '/srv/fb-file-tree', state: 'absent' }),
      file({ path: '/etc/fb-file/app.conf', state: 'link', target: '/etc/fb-file/target.conf' }),
      file({ path: '/etc/fb-file/repoint', state: 'link', target: 'b' }),
      file({ path: '/etc/fb-file/in-the-way', state: 'link', target: 'target.conf', force: true }),
      file({ path: '/etc/fb-file/hard.conf', state: 'hard', target: '/etc/fb-file/target.conf' }),
      file({ path: '/var/log/fb-file.log', state: 'touch', mode: '0640', group: 'adm' }),
      file({ path: '/srv/fb-file-dir', state: 'directory', mode: '0750' }),
    ],
  },
  // Served by the test on loopback (FB_URL); curl installed first for the host's own fetch.
  get download() {
    const url = process.env.FB_URL ?? '';
    return {
      tasks: [
        aptInstall({ packages: ['curl'] }),
        download({
          url: `${url}/tool.sh`,
          dest: '/usr/local/bin/fb-tool',
          sha256: process.env.FB_SHA_TOOL ?? '',
          mode: '0755',
        }),
        download({
          url: `${url}/data.bin`,
          dest: '/srv/fb-data.bin',
          sha256: process.env.FB_SHA_DATA ?? '',
          owner: 'www-data',
          via: 'controller' as const,
        }),
      ],
    };
  },
  // A release tarball fetched by the host (curl) into a new directory; a site zip from the
  // controller (FB_ZIP) over a directory the test made.
  get unarchive() {
    return {
      tasks: [
        aptInstall({ packages: ['curl', 'unzip'] }),
        ensureDir({ path: '/srv/fb-rel' }),
        unarchive({
          url: `${process.env.FB_URL ?? ''}/app-1.0.tar.gz`,
          sha256: process.env.FB_SHA_TGZ ?? '',
          dest: '/srv/fb-rel/1.0',
          stripComponents: 1,
          owner: 'www-data',
          group: 'www-data',
        }),
        unarchive({ src: process.env.FB_ZIP ?? '', dest: '/srv/fb-site' }),
      ],
    };
  },
  // The test's repository (FB_GIT, served by git daemon): a shallow clone of a branch, owned by
  // www-data; a checkout the test made at tag v1 moved to v2.
  get gitCheckout() {
    const repo = process.env.FB_GIT ?? '';
    return {
      tasks: [
        gitCheckout({
          repo,
          version: 'main',
          dest: '/srv/fb-git-main',
          depth: 1,
          owner: 'www-data',
          group: 'www-data',
        }),
        gitCheckout({ repo, version: 'v2', dest: '/srv/fb-git-tag' }),
      ],
    };
  },
  // A download whose bytes are not the ones named.
  get downloadBad() {
    return {
      tasks: [
        download({
          url: `${process.env.FB_URL ?? ''}/tool.sh`,
          dest: '/usr/local/bin/fb-tool',
          sha256: '0'.repeat(64),
        }),
      ],
    };
  },
  // A unit of one's own, started and enabled; an old one (made by the test) removed.
  systemdUnit: {
    tasks: [
      systemdUnit({
        name: 'fb-e2e.service',
        content:
          '[Unit]\nDescription=fleetbook e2e\n\n[Service]\nExecStart=/bin/sleep infinity\n\n[Install]\nWantedBy=multi-user.target\n',
      }),
      ensureService({ name: 'fb-e2e.service', state: 'started', enabled: true }),
      systemdUnit({ name: 'fb-old.service', state: 'absent' }),
    ],
  },
  // A unit systemd-analyze verify refuses: its ExecStart does not exist.
  systemdUnitBad: {
    tasks: [systemdUnit({ name: 'fb-bad.service', content: '[Service]\nExecStart=/bin/nosuch\n' })],
  },
  templateFile: {
    tasks: [
      templateFile({
        src: 'site.conf.ejs',
        dest: '/etc/fb-site.conf',
        mode: '0640',
        group: 'www-data',
        vars: { domain: 'a&b.example.org', upstream: 'unix:/run/app.sock' },
      }),
    ],
  },
  copyFile: { tasks: [copyFile({ content: 'hello from fleetbook\n', dest: '/etc/fb-hello.txt' })] },
  cronDaily: {
    tasks: [
      cronDaily({
        name: 'fb-e2e-job',
        script: '#!/bin/sh\necho fleetbook daily >> /var/log/fb-e2e-job.log\n',
      }),
    ],
  },
  aptInstall: { tasks: [aptInstall({ packages: ['tree=2.1.0-1'], hold: true })] },
  command: {
    tasks: [command({ run: 'echo built > /var/tmp/fb-built', creates: '/var/tmp/fb-built' })],
  },
  // A task that runs long enough for the status line (not a four-pass case: it always runs).
  slow: { tasks: [command({ run: 'sleep 13', always: true })] },
  serviceRestart: {
    tasks: [
      copyFile(
        { content: '# fleetbook e2e\n', dest: '/etc/default/fb-cron-note' },
        { notify: ['restart cron'] },
      ),
    ],
    handlers: [serviceRestart({ name: 'cron' }, { name: 'restart cron' })],
  },
};

const chosen = cases[process.env.FB_CASE ?? ''];
if (chosen === undefined)
  throw new Error(`FB_CASE must be one of ${Object.keys(cases).join(', ')}`);

export default definePlaybook({
  name: `four passes: ${process.env.FB_CASE ?? ''}`,
  hosts: 'all',
  tasks: chosen.tasks,
  handlers: chosen.handlers ?? [],
});
