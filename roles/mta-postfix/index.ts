/**
 * Mail through postfix as a satellite: it takes mail only from this host (sendmail/pickup; no
 * SMTP listener) and relays everything to the smarthost over TLS with SASL authentication.
 * Proves the path at the end: verifyMail follows a test message to the smarthost (tag `mail`).
 * Reads host facts (myhostname is the host's FQDN, the mail name defaults to it): the playbook
 * says `facts: true`.
 */
import { defineRole } from 'fleetbook';
import { aptInstall, command, ensureDir, templateFile } from 'fleetbook/tasks';
import { mailnameAndProof, mailnameOf, MTA_DEFAULTS, MtaVars } from '../mail-vars.ts';
import { postfixMap, postfixReload } from './tasks.ts';

const mta = { tags: ['mta'] };

export const mtaPostfix = defineRole({
  name: 'mta-postfix',
  dir: import.meta.url,
  varsSchema: MtaVars,
  defaults: MTA_DEFAULTS,
  // main.cf's myhostname is the host's FQDN, and the mail name defaults to it
  facts: true,
  tasks: (host, vars) => {
    const v = { ...vars, mailname: mailnameOf(vars, host.facts) };
    const aliases = { rootMailTo: v.rootMailTo, localUsers: v.localUsers };
    return [
      aptInstall(
        {
          packages: ['postfix', 'libsasl2-modules'],
          preseed: [
            {
              package: 'postfix',
              question: 'postfix/main_mailer_type',
              type: 'select',
              value: 'Satellite system',
            },
            { package: 'postfix', question: 'postfix/mailname', type: 'string', value: v.mailname },
            {
              package: 'postfix',
              question: 'postfix/relayhost',
              type: 'string',
              value: `[${v.smarthost.host}]:${String(v.smarthost.port)}`,
            },
          ],
        },
        mta,
      ),
      ensureDir({ path: '/etc/postfix' }, mta),
      templateFile(
        {
          src: 'main.cf.ejs',
          dest: '/etc/postfix/main.cf',
          validate: 'postconf -c "$(dirname %s)" -n >/dev/null',
          vars: { smarthost: v.smarthost, mailname: v.mailname, rootMailTo: v.rootMailTo },
        },
        mta,
      ),
      // A satellite needs no SMTP listener (local mail enters through sendmail/pickup), and on
      // hosts sharing a network namespace (the lab) several smtpd on 127.0.0.1:25 would collide.
      command(
        {
          run: 'postconf -M# smtp/inet',
          unless: 'command -v postconf >/dev/null && [ -z "$(postconf -M smtp/inet 2>/dev/null)" ]',
          describe: 'disable the smtpd listener in master.cf (postconf -M# smtp/inet)',
        },
        mta,
      ),
      postfixMap(
        {
          path: '/etc/postfix/sasl_passwd',
          kind: 'postmap',
          mode: '0600',
          sensitive: true,
          src: 'sasl_passwd.ejs',
          vars: { smarthost: v.smarthost, password: v.password },
        },
        mta,
      ),
      postfixMap(
        {
          path: '/etc/aliases',
          kind: 'postalias',
          mode: '0644',
          src: 'aliases.ejs',
          vars: aliases,
        },
        mta,
      ),
      postfixReload({}, mta),
      // After a switch from dma, its copy of the password would stay behind.
      command(
        {
          run: 'rm -f /etc/dma/auth.conf',
          unless: '[ ! -e /etc/dma/auth.conf ]',
          describe: "remove dma's copy of the smarthost password",
        },
        mta,
      ),
      ...mailnameAndProof(v, 'postfix'),
    ];
  },
});
