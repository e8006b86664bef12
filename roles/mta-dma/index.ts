/**
 * Mail through dma, the DragonFly Mail Agent: a sendmail that relays every message to the
 * smarthost (587 with STARTTLS, or 465 with TLS) with authentication. No daemon, no listener.
 * Proves the path at the end: verifyMail follows a test message to the smarthost (tag `mail`).
 * Reads host facts (the mail name defaults to the host's FQDN): the playbook says `facts: true`.
 */
import { defineRole } from 'fleetbook';
import { aptInstall, command, ensureDir, templateFile } from 'fleetbook/tasks';
import { mailnameAndProof, mailnameOf, MTA_DEFAULTS, MtaVars } from '../mail-vars.ts';

const mta = { tags: ['mta'] };

export const mtaDma = defineRole({
  name: 'mta-dma',
  dir: import.meta.url,
  varsSchema: MtaVars,
  defaults: MTA_DEFAULTS,
  // the mail name defaults to the host's FQDN
  facts: true,
  tasks: (host, vars) => {
    const v = { ...vars, mailname: mailnameOf(vars, host.facts) };
    return [
      aptInstall(
        {
          packages: ['dma'],
          // The package's only questions; answered as the files below say, so neither an install
          // nor a later dpkg-reconfigure prompts or rewrites /etc/mailname and SMARTHOST.
          preseed: [
            { package: 'dma', question: 'dma/mailname', type: 'string', value: v.mailname },
            { package: 'dma', question: 'dma/relayhost', type: 'string', value: v.smarthost.host },
          ],
        },
        mta,
      ),
      // The package makes /etc/dma; saying so lets check mode on a fresh host plan the files below.
      ensureDir({ path: '/etc/dma' }, mta),
      templateFile(
        {
          src: 'dma.conf.ejs',
          dest: '/etc/dma/dma.conf',
          owner: 'root',
          group: 'mail',
          mode: '0640',
          vars: { smarthost: v.smarthost },
        },
        mta,
      ),
      // dma is setgid mail: root:mail 0640 lets it read the password for every user (0600 would
      // break mail from the app and from cron). One line, no trailing CR: dma takes it literally.
      templateFile(
        {
          src: 'auth.conf.ejs',
          dest: '/etc/dma/auth.conf',
          owner: 'root',
          group: 'mail',
          mode: '0640',
          sensitive: true,
          vars: { smarthost: v.smarthost, password: v.password },
        },
        mta,
      ),
      templateFile(
        {
          src: 'aliases.ejs',
          dest: '/etc/aliases',
          vars: { rootMailTo: v.rootMailTo, localUsers: v.localUsers },
        },
        mta,
      ),
      // After a switch from postfix, its copy of the password would stay behind (apt keeps the
      // config files of a removed package).
      command(
        {
          run: 'rm -f /etc/postfix/sasl_passwd /etc/postfix/sasl_passwd.db',
          unless: '[ ! -e /etc/postfix/sasl_passwd ] && [ ! -e /etc/postfix/sasl_passwd.db ]',
          describe: "remove postfix's copy of the smarthost password",
        },
        mta,
      ),
      ...mailnameAndProof(v, 'dma'),
    ];
  },
});
