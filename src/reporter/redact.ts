import { maskSecrets, registerSecret } from '../core/secret-mask.ts';

/**
 * Last line of defence for secrets: every string the reporters write passes through here, and any
 * known secret value in it (plain, escaped, quoted, URL-encoded, base64) is replaced by the mask.
 */
export class Redactor {
  add(value: string): void {
    registerSecret(value);
  }

  redact(text: string): string {
    return maskSecrets(text);
  }
}
