import Type, { type Static } from 'typebox';

const Vars = Type.Record(Type.String(), Type.Unknown());

/** Host, group and environment names: they end up in file names, patterns and output. */
export const NAME = '^[A-Za-z0-9][A-Za-z0-9_.-]*$';

const Connection = {
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  user: Type.Optional(Type.String({ minLength: 1 })),
  /** Private key file; `~` is the controller user's home. Without it, the SSH agent is used. */
  key: Type.Optional(Type.String({ minLength: 1 })),
  /** known_hosts file checked for host keys (default ~/.ssh/known_hosts). */
  knownHosts: Type.Optional(Type.String({ minLength: 1 })),
  /** Trust and record a host key never seen before (a changed key is still refused). */
  acceptNewHostKeys: Type.Optional(Type.Boolean()),
  /** Connect as `user` and run as root with `sudo -n`. */
  become: Type.Optional(Type.Boolean()),
  /** Reach the host through these SSH hosts, OpenSSH's ProxyJump syntax: `[user@]host[:port],...` or `none`. */
  proxyJump: Type.Optional(Type.String({ minLength: 1 })),
  /** "local" runs on the controller itself, without SSH. */
  connection: Type.Optional(Type.Union([Type.Literal('ssh'), Type.Literal('local')])),
};

export const HostEntrySchema = Type.Object(
  {
    address: Type.Optional(
      Type.String({ pattern: '^[^\\s/]+$', description: 'a host name or IP address' }),
    ),
    ...Connection,
    vars: Type.Optional(Vars),
  },
  { additionalProperties: false },
);

export const GroupSchema = Type.Object(
  {
    hosts: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    children: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    vars: Type.Optional(Vars),
  },
  { additionalProperties: false },
);

export const InventorySchema = Type.Object(
  {
    environment: Type.String({ minLength: 1 }),
    /** Environment names beyond production, staging, development and lab that this inventory may use. */
    environments: Type.Optional(
      Type.Array(Type.String({ pattern: NAME, description: 'an environment name' })),
    ),
    defaults: Type.Optional(
      Type.Object(
        {
          ...Connection,
          /** OpenSSH client config consulted for HostName, Port, User, IdentityFile and ProxyJump; `none` for none. */
          sshConfig: Type.Optional(Type.String({ minLength: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    vars: Type.Optional(Vars),
    hosts: Type.Record(Type.String({ pattern: NAME }), HostEntrySchema),
    groups: Type.Optional(Type.Record(Type.String({ pattern: NAME }), GroupSchema)),
  },
  { additionalProperties: false },
);

export type HostEntry = Static<typeof HostEntrySchema>;
export type GroupEntry = Static<typeof GroupSchema>;
export type InventoryDefinition = Static<typeof InventorySchema>;
export type InventoryDefaults = NonNullable<InventoryDefinition['defaults']>;

/** A TypeScript inventory: `export default defineInventory({...})`. Validated when loaded. */
export function defineInventory(def: InventoryDefinition): InventoryDefinition {
  return def;
}
