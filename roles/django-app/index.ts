/**
 * A Django project in production, served by gunicorn from Debian's packages: the code in
 * /opt/PROJECT (root-owned), run by the system user PROJECT as PROJECT.service on
 * /run/PROJECT/gunicorn.sock; settings in /etc/opt/PROJECT/settings.py (DEBUG off, ALLOWED_HOSTS,
 * SECRET_KEY, ADMINS and SERVER_EMAIL, rotating file logging, a file cache; root:PROJECT 0640,
 * checked by Python before it replaces the live file); data, logs and cache under /var; a daily
 * clearsessions job; /usr/local/sbin/restart-PROJECT, which recompiles and restarts. Mail leaves
 * through the host's MTA (the mta-dma or mta-postfix role); Django's own `sendtestemail --admins`
 * is followed to the smarthost at the end (tag `mail`).
 */
import path from 'node:path';
import { defineRole, projectRoot, Type } from 'fleetbook';
import {
  aptInstall,
  copyFile,
  cronDaily,
  ensureDir,
  ensureService,
  ensureUser,
  templateFile,
} from 'fleetbook/tasks';
import { Email, Hostname, Mta } from '../mail-vars.ts';
import { projectTree } from './code.ts';
import { djangoMigrate, djangoSendTestEmail, restartApp } from './tasks.ts';

const PY_COMPILES = `python3 -c "import sys; compile(open(sys.argv[1], encoding='utf-8').read(), sys.argv[1], 'exec')" %s`;

export const DjangoAppVars = Type.Object(
  {
    /** Python package, system user, service and directory name. */
    project: Type.String({
      pattern: '^[a-z][a-z0-9_]{0,30}$',
      description: 'a lower-case Python identifier',
    }),
    /** The project's code on the controller (manage.py and the package): absolute, or relative to the project. */
    code: Type.String({ minLength: 1 }),
    /** The site's domain: mail goes out as noreply@DOMAIN. */
    domain: Hostname,
    /** Django's ALLOWED_HOSTS; default [domain]. ".example.org" matches the domain and its subdomains. */
    allowedHosts: Type.Optional(
      Type.Array(
        Type.String({
          pattern: '^\\.?[A-Za-z0-9.-]+$|^\\*$',
          description: 'a host name, ".domain" or "*"',
        }),
        { minItems: 1 },
      ),
    ),
    /** ADMINS (and MANAGERS). */
    admins: Type.Array(
      Type.Object(
        { name: Type.String({ minLength: 1, pattern: '^[^\\r\\n]*$' }), email: Email },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
    secretKey: Type.String({ minLength: 50 }),
    /** Which MTA the host has: where sendtestemail's messages are followed. */
    mta: Mta,
    timeZone: Type.String({
      pattern: '^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$',
      description: 'a tz name such as "Europe/Berlin"',
    }),
    languageCode: Type.String({ pattern: '^[a-z]{2,3}(-[a-z0-9]{2,8})*$' }),
    /** gunicorn worker processes. */
    workers: Type.Integer({ minimum: 1, maximum: 64 }),
    /** SECURE_HSTS_SECONDS: start small on a new domain, then a year once HTTPS is certain. */
    hstsSeconds: Type.Integer({ minimum: 1 }),
    /** How long sendtestemail waits for the smarthost to accept its messages. */
    mailTimeoutSeconds: Type.Integer({ minimum: 5, maximum: 600 }),
  },
  { additionalProperties: false },
);

export const djangoApp = defineRole({
  name: 'django-app',
  dir: import.meta.url,
  varsSchema: DjangoAppVars,
  defaults: {
    timeZone: 'UTC',
    languageCode: 'en-us',
    workers: 2,
    hstsSeconds: 31536000,
    mailTimeoutSeconds: 60,
  },
  tasks: (_host, v) => {
    const P = v.project;
    const code = path.resolve(projectRoot(), v.code);
    const tree = projectTree(code, P);
    // What the templates read: the role's vars (the SECRET_KEY only where it belongs).
    const { secretKey, ...shared } = v;
    const vars = { ...shared, allowedHosts: v.allowedHosts ?? [v.domain] };
    const restart = { notify: ['restart'] };
    const owned = { owner: P, group: P, mode: '0750' };
    return [
      aptInstall({ packages: ['python3-django', 'gunicorn', 'cron'] }),
      ensureUser({ name: P, home: `/var/opt/${P}` }),
      ensureDir({ path: `/var/opt/${P}`, ...owned }),
      ensureDir({ path: `/var/log/${P}`, ...owned }),
      ensureDir({ path: `/var/cache/${P}`, ...owned }),
      ensureDir({ path: `/var/cache/${P}/cache`, ...owned }),
      ensureDir({ path: `/etc/opt/${P}`, owner: 'root', group: P, mode: '0750' }),

      // The code: root-owned, world-readable (nothing secret in it), the same on every host.
      ensureDir({ path: `/opt/${P}` }),
      ...tree.dirs.map((d) => ensureDir({ path: `/opt/${P}/${d}` })),
      ...tree.files.map((f) =>
        copyFile(
          {
            src: path.join(code, f),
            dest: `/opt/${P}/${f}`,
            mode: f === 'manage.py' ? '0755' : '0644',
          },
          restart,
        ),
      ),

      templateFile(
        {
          src: 'settings.py.ejs',
          dest: `/etc/opt/${P}/settings.py`,
          owner: 'root',
          group: P,
          mode: '0640',
          sensitive: true,
          validate: PY_COMPILES,
          vars: { ...vars, secretKey },
        },
        restart,
      ),
      templateFile(
        { src: 'gunicorn.service.ejs', dest: `/etc/systemd/system/${P}.service`, vars },
        restart,
      ),
      templateFile({
        src: 'restart.sh.ejs',
        dest: `/usr/local/sbin/restart-${P}`,
        mode: '0755',
        vars,
      }),
      cronDaily({ name: `${P}-clearsessions`, template: 'clearsessions.ejs', vars }),

      djangoMigrate({ project: P, code }),
      ensureService({ name: `${P}.service`, state: 'started', enabled: true }),
      djangoSendTestEmail(
        { project: P, mta: v.mta, timeoutSeconds: v.mailTimeoutSeconds },
        { tags: ['mail'] },
      ),
    ];
  },
  handlers: (_host, v) => {
    const allowedHosts = v.allowedHosts ?? [v.domain];
    const httpHost = allowedHosts.find((h) => h !== '*' && !h.startsWith('.')) ?? v.domain;
    return [restartApp({ project: v.project, httpHost }, { name: 'restart' })];
  },
  exports: ['restart'],
});
