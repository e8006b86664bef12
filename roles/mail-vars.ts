/** The vars the mail roles share: where mail is relayed, and what an address looks like. */
import { Type, type HostFacts, type Static } from 'fleetbook';
import { copyFile, verifyMail } from 'fleetbook/tasks';

export const Email = Type.String({
  pattern: '^[^\\s@<>()\\[\\]",;:\\\\]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$',
  maxLength: 254,
  description: 'an email address',
});

export const Hostname = Type.String({
  pattern:
    '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$',
  maxLength: 253,
  description: 'a host name or IPv4 address',
});

/** Where the host's MTA relays all mail: 587 = submission with STARTTLS, 465 = implicit TLS. */
export const Smarthost = Type.Object(
  {
    host: Hostname,
    port: Type.Union([Type.Literal(587), Type.Literal(465)]),
    user: Type.String({
      pattern: '^[^\\s|:]+$',
      description: 'a login without spaces, "|" or ":"',
    }),
  },
  { additionalProperties: false },
);
export type Smarthost = Static<typeof Smarthost>;

export const Mta = Type.Union([Type.Literal('dma'), Type.Literal('postfix')]);

/** What both MTA roles take: the relay, its password, the mail name and where root's mail goes. */
export const MtaVars = Type.Object(
  {
    smarthost: Smarthost,
    /** The smarthost account's password: a secret, masked in all output. */
    password: Type.String({ minLength: 1 }),
    /**
     * /etc/mailname: the domain unqualified addresses (root, cron's mail) get. Default: the host's
     * FQDN (its facts), as Debian's installer sets it.
     */
    mailname: Type.Optional(Hostname),
    /** Where mail for root and postmaster goes. */
    rootMailTo: Email,
    /** Local accounts whose mail goes to root (the app's user, cron's). */
    localUsers: Type.Array(Type.String({ pattern: '^[a-z_][a-z0-9_-]*$' })),
    /** verifyMail: a test message to this address, followed to the smarthost (tag `mail`). */
    verifyTo: Email,
    verifyTimeoutSeconds: Type.Integer({ minimum: 5, maximum: 600 }),
  },
  { additionalProperties: false },
);

/** The defaults of both MTA roles. */
export const MTA_DEFAULTS = { localUsers: [], verifyTimeoutSeconds: 60 } satisfies Partial<
  Static<typeof MtaVars>
>;

/** The mail name the vars give, or the host's own FQDN. */
export function mailnameOf(v: { mailname?: string | undefined }, facts: HostFacts): string {
  return v.mailname ?? facts.fqdn;
}

/**
 * How both MTA roles end: /etc/mailname (tag `mta`), then verifyMail following a test message
 * to the smarthost (tag `mail`).
 */
export function mailnameAndProof(
  v: { mailname: string; verifyTo: string; verifyTimeoutSeconds: number },
  mta: Static<typeof Mta>,
) {
  return [
    copyFile({ dest: '/etc/mailname', content: `${v.mailname}\n` }, { tags: ['mta'] }),
    verifyMail(
      {
        to: v.verifyTo,
        from: `noreply@${v.mailname}`,
        mta,
        timeoutSeconds: v.verifyTimeoutSeconds,
      },
      { tags: ['mail'] },
    ),
  ];
}
