/** The public API a playbook, inventory or custom task imports. */
export { defineTask, isTask } from './core/task.ts';
export type {
  Task,
  TaskFactory,
  TaskOptions,
  TaskDefinition,
  Plan,
  PlanContext,
  Change,
  Step,
  Effect,
  DiffPart,
  HostView,
  VerifyAction,
  RemoteShell,
  PrepareContext,
  ResultInput,
  ResultOf,
  ChangedResult,
  StepPrinted,
  TaskList,
} from './core/task.ts';
export { withResult } from './core/with-result.ts';
export { definePlaybook } from './core/playbook.ts';
export type {
  Playbook,
  PlaybookDefinition,
  PlaybookHost,
  SecretSpec,
  TaskEntry,
  PlayContents,
} from './core/playbook.ts';
export { defineRole, isRoleUse } from './core/role.ts';
export type {
  RoleDefinition,
  RoleFactory,
  RoleOptions,
  RoleUse,
  RoleVars,
  RoleContents,
} from './core/role.ts';
export { defineInventory } from './inventory/schema.ts';
export type { InventoryDefinition, HostEntry, GroupEntry } from './inventory/schema.ts';
export { absentFile, fact, factKey } from './core/facts.ts';
export { defineFact, factEffect } from './core/custom-fact.ts';
export type {
  FactDefinition,
  CustomQuery,
  CustomFactFactory,
  CustomFactEffect,
} from './core/custom-fact.ts';
export type * from './core/facts.ts';
export type { HostFacts, NetworkAddress } from './core/host-facts.ts';
export {
  planFile,
  planWholeFile,
  desiredFile,
  wholeFileProbe,
  attributeChange,
  accountProbe,
  missingAccount,
  checkValidate,
  fileRead,
  normMode,
} from './core/file-change.ts';
export {
  AbsPath,
  AccountName,
  FileTaskFields,
  Mode,
  PackageName,
  ServiceName,
} from './core/params.ts';
export { renderTemplate, templateData } from './render/template.ts';
export { projectRoot, templatesRoot } from './core/project.ts';
export type { DesiredFile, Attributes, FileTaskParams } from './core/file-change.ts';
export { fileDiff, sensitiveFileDiff, maskLine, MASK } from './core/diff.ts';
export { maskSecrets, truncate } from './core/secret-mask.ts';
export { sh, raw, joinScripts, isScript } from './core/shell.ts';
export { undoGuards } from './core/undo-guards.ts';
export type { ParamRule } from './core/param-rules.ts';
export type { Script, ShellValue } from './core/shell.ts';
export { ConfigError, TaskFailure } from './core/errors.ts';
export { sha256 } from './core/probe-script.ts';
export { default as Type } from 'typebox';
export type { Static, TSchema } from 'typebox';
