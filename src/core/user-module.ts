import { register } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * Node's hook that makes the user's own `.ts` files ES modules whatever their package.json says:
 * tsx would load them as CommonJS in a default (`npm init -y`) project, where importing the
 * ESM-only engine fails with ERR_REQUIRE_CYCLE_MODULE. Files under node_modules keep their format.
 * A data: URL, because the hook runs on the loader thread, outside tsx and outside this build.
 */
const ESM_FOR_USER_TS = `
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (r.url.startsWith('file:') && r.url.endsWith('.ts') && !r.url.includes('/node_modules/'))
    return { ...r, format: 'module' };
  return r;
}`;

let typescript: Promise<void> | undefined;

async function registerTypeScript(): Promise<void> {
  // Registered on first use only: from then on every import passes through the hooks, and the
  // engine, loaded before, stays out of them.
  const tsx = await import('tsx/esm/api');
  tsx.register();
  register(`data:text/javascript,${encodeURIComponent(ESM_FOR_USER_TS)}`);
}

/** Import a playbook, inventory or custom task module; TypeScript is compiled on the fly. */
export async function importUserModule(file: string): Promise<{ default?: unknown }> {
  // A JavaScript playbook may import TypeScript tasks: the hooks are needed for any user module.
  typescript ??= registerTypeScript();
  await typescript;
  return (await import(pathToFileURL(file).href)) as { default?: unknown };
}
