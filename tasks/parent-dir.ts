// The directory a task's new file, link or tree goes in: the tasks that make one (file, download,
// unarchive, gitCheckout) probe it and refuse, before any change, when it is not there.
import type { FileFact, Plan } from 'fleetbook';

/** The directory `path` is in: `/srv` for `/srv/app`, `/` for `/srv`. */
export function parentOf(path: string): string {
  return path.slice(0, Math.max(1, path.lastIndexOf('/')));
}

/** The plan's failure when `parent` (probed at parentOf(path)) is not a directory, else null. */
export function missingParent(parent: FileFact, path: string): Plan | null {
  if (parent.exists && parent.type === 'directory') return null;
  return {
    status: 'fail',
    message: `${parentOf(path)} is not a directory (make it first, with ensureDir)`,
  };
}
