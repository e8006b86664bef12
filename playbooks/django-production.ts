/**
 * The reference deployment: a Django project in production, the same playbook for every
 * environment (inventories/production.yaml, staging.yaml, development.yaml).
 *
 *   fleetbook secret set production smarthost_password        # once per environment (stdin)
 *   fleetbook run playbooks/django-production.ts -i inventories/production.yaml --check --diff
 *   fleetbook run playbooks/django-production.ts -i inventories/production.yaml
 *
 * Mail first (roles/mta-dma, or roles/mta-postfix as a satellite): relayed to the environment's
 * smarthost, proven by verifyMail. Then the app (roles/django-app): settings, logging, caching,
 * cron, the restart script and the service, proven by Django's own `sendtestemail --admins`.
 *
 * Secrets (never in the inventory, never printed): SECRET_KEY is generated once per environment,
 * the smarthost password is set by an operator (secrets/ENV.age, age-encrypted, committed).
 *
 * Tags: `mta` (the MTA's configuration), `mail` (the tasks that send mail). `--skip-tags mail`
 * converges a host without sending anything; `--tags mta,mail` re-checks only the mail path.
 */
import { fileURLToPath } from 'node:url';
import { definePlaybook, Type, type Static } from 'fleetbook';
import { djangoApp, DjangoAppVars } from '../roles/django-app/index.ts';
import { Smarthost } from '../roles/mail-vars.ts';
import { mtaDma } from '../roles/mta-dma/index.ts';
import { mtaPostfix } from '../roles/mta-postfix/index.ts';

// What the inventory gives, checked there (errors name the inventory file): the app's vars as the
// role declares them, and where mail is relayed. SECRET_KEY and the password are secrets.
const of = DjangoAppVars.properties;
const DjangoVars = Type.Object({
  project: of.project,
  domain: of.domain,
  allowedHosts: of.allowedHosts,
  /** The first also receives root's mail and the verifyMail message. */
  admins: of.admins,
  smarthost: Smarthost,
  mta: of.mta,
  timeZone: Type.Optional(of.timeZone),
  languageCode: Type.Optional(of.languageCode),
  workers: Type.Optional(of.workers),
  hstsSeconds: Type.Optional(of.hstsSeconds),
  mailTimeoutSeconds: Type.Optional(of.mailTimeoutSeconds),
});
type DjangoVars = Static<typeof DjangoVars>;

export default definePlaybook({
  name: 'django-production',
  hosts: 'django',
  // The shape of the inventory's vars; each role checks the values it is given.
  varsSchema: DjangoVars,
  vars: { project: 'fbdemo', mta: 'dma' },
  // mta-postfix names the host by its FQDN
  facts: true,
  secrets: {
    django_secret_key: { generate: { length: 64 } },
    smarthost_password: {
      operator: {
        description: 'password of the smarthost account (smarthost.user in the inventory)',
      },
    },
  },
  tasks: (host) => {
    const v: DjangoVars = host.vars;
    const { smarthost, ...app } = v;
    const admin = v.admins[0]?.email ?? `root@${v.domain}`;
    const mail = {
      smarthost,
      password: host.secrets.smarthost_password,
      mailname: v.domain,
      rootMailTo: admin,
      localUsers: [v.project],
      verifyTo: admin,
      verifyTimeoutSeconds: v.mailTimeoutSeconds,
    };
    return [
      v.mta === 'dma' ? mtaDma(mail) : mtaPostfix(mail),
      djangoApp({
        ...app,
        // the demo project's code, beside this playbook
        code: fileURLToPath(new URL(`files/${v.project}`, import.meta.url)),
        secretKey: host.secrets.django_secret_key,
      }),
    ];
  },
});
