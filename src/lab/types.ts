export interface LabHost {
  name: string;
  address: string;
  port: number;
  /** PID of the host's systemd-nspawn process, null when stopped */
  pid: number | null;
  running: boolean;
}

export interface SmarthostInfo {
  host: '127.0.0.1';
  /** submission with STARTTLS, 587 */
  port: number;
  /** implicit TLS, 465 */
  tlsPort: number;
  user: string;
  password: string;
  /** The file the password is kept in (what `fleetbook secret set --from-file` reads). */
  passwordFile: string;
  mailDir: string;
  pid: number | null;
  running: boolean;
}

export interface LabInfo {
  hosts: LabHost[];
  inventoryPath: string;
  keyPath: string;
  knownHostsPath: string;
  smarthost: SmarthostInfo;
}

/** One message the lab's smarthost accepted. */
export interface LabMail {
  id: string;
  /** envelope sender (MAIL FROM), '' for the null sender */
  from: string;
  /** envelope recipients (RCPT TO) */
  to: string[];
  authUser: string | null;
  /** whether the session was encrypted (STARTTLS or implicit TLS) */
  tls: boolean;
  /** ISO 8601 */
  receivedAt: string;
  /** the message as received (headers and body, CRLF line ends) */
  raw: string;
}

/** What `<root>/mail/<id>.json` holds next to `<id>.eml`. */
export interface StoredMailMeta {
  from: string;
  to: string[];
  authUser: string | null;
  tls: boolean;
  receivedAt: string;
}

export type LabLog = (line: string) => void;
