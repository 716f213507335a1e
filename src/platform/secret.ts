// Defence in depth: a driver error may quote its connection settings; the
// password never leaves the process in any message.
import { scrubSecrets, starSecret } from './url.js';

export function redactSecret(text: string, password: string): string {
  let out = scrubSecrets(text);
  if (password) {
    for (const form of new Set([password, encodeURIComponent(password)])) out = starSecret(out, form);
  }
  return out;
}
