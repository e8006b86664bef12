import { hostname, userInfo } from 'node:os';

/** Who acts on this controller, as journals, host locks and recipient notes name them: user@host. */
export function controllerUser(): string {
  return `${userInfo().username}@${hostname()}`;
}
