/**
 * The lab: a local fleet of throwaway Debian bookworm hosts (systemd-nspawn containers on overlay
 * mounts of a cached debootstrap base, reached over real SSH at 127.0.1.N) plus an SMTP smarthost.
 * Needs root. Product feature (`fleetbook lab up|down|status`) and test substrate.
 */
export type { LabHost, LabInfo, LabMail, SmarthostInfo } from './types.ts';
export {
  formatLabStatus,
  LAB_DEPLOY_USER,
  labDown,
  labResetHost,
  labSsh,
  labStartHost,
  labStatus,
  labStopHost,
  labUp,
} from './lab.ts';
export { readLabMail } from './mail.ts';
export { labRoot } from './paths.ts';
