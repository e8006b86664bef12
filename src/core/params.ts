import Type from 'typebox';

/** Param schemas shared by task modules, so every task says the same thing about the same field. */
export const AbsPath = Type.String({
  // No newline: the probe reads all paths with one `stat`, a line each.
  pattern: '^/[^\\0\\n]*$',
  description: 'an absolute path (without newlines)',
});
export const Mode = Type.String({
  pattern: '^0?[0-7]{3}$|^[0-7]{4}$',
  description: 'octal mode such as "0644"',
});
export const AccountName = Type.String({
  pattern: '^[a-z_][a-z0-9_-]*[$]?$',
  maxLength: 32,
  description: 'a user or group name',
});
export const PackageName = Type.String({
  pattern: '^[a-z0-9][a-z0-9+.-]+$',
  description: 'a Debian package name',
});

/** The fields of every whole-file task (templateFile, copyFile): spread them into its schema. */
/** A systemd unit ("nginx", "nginx.service", "backup.timer") or a sysv init script name. */
export const ServiceName = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9@_.:-]*$',
  maxLength: 200,
  description: 'a service name',
});
export const FileTaskFields = {
  dest: { ...AbsPath, doc: 'The file on the host, replaced atomically.' },
  mode: Type.Optional({ ...Mode, default: '0644' }),
  owner: Type.Optional({ ...AccountName, default: 'root' }),
  group: Type.Optional({ ...AccountName, default: 'root' }),
  validate: Type.Optional(
    Type.String({
      minLength: 1,
      doc: 'Command run on the temp file before it replaces the live one (in check mode too, on a private copy); must contain `%s` (the temp path).',
    }),
  ),
  sensitive: Type.Optional(
    Type.Boolean({
      default: false,
      doc: 'Keep the content out of diffs and logs (changed lines shown, values masked).',
    }),
  ),
};
