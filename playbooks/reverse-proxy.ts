/**
 * A second example, beside the Django one: a small app behind HAProxy, as a team would roll it out.
 *
 *   fleetbook run playbooks/reverse-proxy.ts -i inventories/proxy.yaml --check --diff
 *   fleetbook run playbooks/reverse-proxy.ts -i inventories/proxy.yaml
 *
 * - HAProxy from an added apt repository (its own key, its fingerprint checked), pinned to the
 *   version the inventory names and held there, its configuration checked by `haproxy -c` before
 *   it replaces the live one, and reloaded when it changes.
 * - The kernel parameters a busy proxy wants (the inventory's `sysctl`), set now and at every boot.
 * - A deploy user who logs in with keys only: its password locked, its authorized_keys exactly
 *   the inventory's.
 * - The app's release fetched with its sha256, into releases/VERSION, `current` pointing at it,
 *   run by a systemd unit of its own as the deploy user; a daily cron job prunes old releases.
 *
 * The inventory's vars (checked against `ProxyVars` below, errors naming the inventory file):
 *
 *   vars:
 *     listen: 192.0.2.10:80
 *     app: { listen: 127.0.0.1:8000, version: "1.4.2", url: https://.../app-1.4.2.py, sha256: ... }
 *     haproxy:
 *       version: 2.6.12-1+deb12u1
 *       repository: { uris: ..., suites: [bookworm], components: [main], keyUrl: ..., fingerprint: ... }
 *     deploy: { user: webops, keys: ["ssh-ed25519 AAAA... ann@laptop"] }
 *     sysctl: { net.core.somaxconn: 4096, net.ipv4.ip_local_port_range: "1024 65000" }
 *
 * test/e2e/example.test.ts runs it on a fresh lab host against a signed repository and a release
 * served on loopback, and reaches the app through HAProxy.
 */
import { definePlaybook, Type, type Static } from 'fleetbook';
import {
  aptInstall,
  aptRepository,
  copyFile,
  cronJob,
  download,
  ensureDir,
  ensureService,
  ensureUser,
  file,
  serviceRestart,
  sysctl,
  systemdUnit,
} from 'fleetbook/tasks';

const HostPort = Type.String({
  pattern: '^[^\\s:]+:[0-9]{1,5}$',
  description: 'ADDRESS:PORT, such as 127.0.0.1:8000',
});

const ProxyVars = Type.Object({
  /** Where HAProxy takes requests. */
  listen: HostPort,
  app: Type.Object({
    listen: HostPort,
    version: Type.String({ pattern: '^[0-9A-Za-z.+~-]+$', description: 'a release version' }),
    url: Type.String({ pattern: '^https?://', description: 'an http(s) URL' }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'a sha256 in hex' }),
  }),
  haproxy: Type.Object({
    version: Type.String({ pattern: '^[0-9][A-Za-z0-9.+~:-]*$', description: 'a Debian version' }),
    repository: Type.Object({
      uris: Type.String(),
      suites: Type.Array(Type.String(), { minItems: 1 }),
      components: Type.Optional(Type.Array(Type.String())),
      keyUrl: Type.String(),
      fingerprint: Type.String(),
    }),
  }),
  deploy: Type.Object({
    user: Type.String({ pattern: '^[a-z_][a-z0-9_-]*$', description: 'a user name' }),
    keys: Type.Array(Type.String(), { minItems: 1 }),
  }),
  /** Kernel parameters by name (each checked by the sysctl task). */
  sysctl: Type.Optional(Type.Record(Type.String(), Type.Union([Type.Integer(), Type.String()]))),
});
type ProxyVars = Static<typeof ProxyVars>;

const SITE = '/srv/app';

/** HAProxy in front of the app: one frontend, one backend, health-checked. */
function haproxyConfig(v: ProxyVars): string {
  return `global
    log /dev/log local0
    user haproxy
    group haproxy
    daemon

defaults
    log global
    mode http
    option httplog
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend www
    bind ${v.listen}
    default_backend app

backend app
    option httpchk GET /
    server app1 ${v.app.listen} check
`;
}

/** The app's unit: the current release, as the deploy user, restarted if it dies. */
function appUnit(v: ProxyVars): string {
  const [host, port] = v.app.listen.split(':');
  return `[Unit]
Description=the app behind HAProxy (fleetbook example)
After=network.target

[Service]
User=${v.deploy.user}
ExecStart=/usr/bin/python3 ${SITE}/current/app.py ${host ?? ''} ${port ?? ''}
Restart=on-failure

[Install]
WantedBy=multi-user.target
`;
}

export default definePlaybook({
  name: 'reverse-proxy',
  hosts: 'all',
  varsSchema: ProxyVars,
  tasks: (host) => {
    const v: ProxyVars = host.vars;
    const release = `${SITE}/releases/${v.app.version}`;
    const owned = { owner: v.deploy.user, group: v.deploy.user };
    return [
      // Accounts before packages: check mode can then plan the user's files on a fresh host (a
      // package whose scripts add accounts makes a user it has not seen yet uncertain).
      ensureUser({
        name: v.deploy.user,
        system: false,
        passwordLocked: true,
        authorizedKeys: v.deploy.keys,
        exclusiveKeys: true,
      }),
      // Before any package: a package's scripts may set kernel parameters, so check mode could
      // not say what they would be after one.
      ...Object.entries(v.sysctl ?? {}).map(([name, value]) =>
        sysctl({ name, value, file: '/etc/sysctl.d/60-haproxy.conf' }),
      ),
      aptRepository({ name: 'haproxy', ...v.haproxy.repository }),
      aptInstall({ packages: [`haproxy=${v.haproxy.version}`], hold: true }),
      // The host fetches the release itself.
      aptInstall({ packages: ['curl'] }),
      ensureDir({ path: release, ...owned }),
      download(
        { url: v.app.url, dest: `${release}/app.py`, sha256: v.app.sha256, ...owned },
        { notify: ['restart app'] },
      ),
      file(
        { path: `${SITE}/current`, state: 'link', target: release },
        { notify: ['restart app'] },
      ),
      systemdUnit({ name: 'app.service', content: appUnit(v) }, { notify: ['restart app'] }),
      ensureService({ name: 'app.service', state: 'started', enabled: true }),
      copyFile(
        {
          dest: '/etc/haproxy/haproxy.cfg',
          content: haproxyConfig(v),
          validate: 'haproxy -c -q -f %s',
        },
        { notify: ['reload haproxy'] },
      ),
      ensureService({ name: 'haproxy', state: 'started', enabled: true }),
      // Releases older than two weeks go, but never the one `current` points at.
      cronJob({
        name: 'app-prune-releases',
        schedule: '17 4 * * *',
        user: v.deploy.user,
        command: `find ${SITE}/releases -mindepth 1 -maxdepth 1 -type d -mtime +14 ! -name ${v.app.version} -exec rm -rf {} +`,
      }),
    ];
  },
  handlers: [
    serviceRestart({ name: 'app.service' }, { name: 'restart app' }),
    serviceRestart({ name: 'haproxy', action: 'reload' }, { name: 'reload haproxy' }),
  ],
});
