/**
 * Whether a text holds a secret, for tests that prove a dump, a log or an output keeps none.
 * A long secret (a token, a key) is looked for anywhere. A short one (a six-digit e-mailed
 * code, a recovery code) is looked for only as a whole value — not touching a letter or digit
 * on either side — because a random six digits turns up by chance inside the hashes, base64 and
 * fixed-clock timestamps such a text is full of (`029200` is in every `1796029200000`), which
 * made `not.toContain(code)` fail about one run in a few hundred. Stored or printed carelessly,
 * a code is a value of its own (`"code":"123456"`, `code 123456.`, a column `123456`), which this
 * still finds. Returns a boolean so that a failure never prints the secret or the text.
 */

/** Below this length a secret is matched only as a whole value. */
const SHORT = 16;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function holdsSecret(text: string, secret: string): boolean {
  if (secret.length === 0) throw new Error('an empty secret proves nothing');
  if (secret.length >= SHORT) return text.includes(secret);
  return new RegExp(`(?<![A-Za-z0-9])${escape(secret)}(?![A-Za-z0-9])`).test(text);
}

/** The secrets of `secrets` that `text` holds, by their place in the list (never their value). */
export function secretsHeld(text: string, secrets: readonly string[]): number[] {
  return secrets.flatMap((secret, index) => (holdsSecret(text, secret) ? [index] : []));
}
