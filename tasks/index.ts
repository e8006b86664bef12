/** Every built-in task, for `import { ensureDir, aptInstall } from 'fleetbook/tasks'`. */
export { aptInstall, type AptInstallParams } from './aptInstall.ts';
export { aptRepository, type AptRepositoryParams } from './aptRepository.ts';
export { command, type CommandParams, type CommandResult } from './command.ts';
export { copyFile, type CopyFileParams } from './copyFile.ts';
export { cronDaily, type CronDailyParams } from './cronDaily.ts';
export { cronJob, type CronJobParams } from './cronJob.ts';
export { blockInFile, type BlockInFileParams } from './blockInFile.ts';
export { download, type DownloadParams } from './download.ts';
export { ensureDir } from './ensureDir.ts';
export { ensureGroup, type EnsureGroupParams } from './ensureGroup.ts';
export { file, type FileParams } from './file.ts';
export { gitCheckout, type GitCheckoutParams } from './gitCheckout.ts';
export { hostname, liveHostname, type HostnameParams } from './hostname.ts';
export { lineInFile, type LineInFileParams } from './lineInFile.ts';
export { ensureService, type EnsureServiceParams } from './ensureService.ts';
export { ensureUser, type EnsureUserParams, type EnsureUserResult } from './ensureUser.ts';
export { serviceRestart, type ServiceRestartParams } from './serviceRestart.ts';
export { sysctl, type SysctlParams } from './sysctl.ts';
export { systemdUnit, type SystemdUnitParams } from './systemdUnit.ts';
export { templateFile, type TemplateFileParams } from './templateFile.ts';
export { timezone, type TimezoneParams } from './timezone.ts';
export { unarchive, type UnarchiveParams } from './unarchive.ts';
export { verifyMail, type VerifyMailParams } from './verifyMail.ts';
// Reading an MTA's journal about one message: for roles and tasks that prove their own mail path.
export {
  parseJournalJson,
  formatEntry,
  judgeDma,
  judgeDmaFromUser,
  judgePostfix,
  judgePostfixFromUid,
  type LogEntry,
  type MailVerdict,
  type FailureKind,
} from './mail-log.ts';
