/**
 * Which of an entry's URLs may be opened in the system browser (issue #11): http and https
 * only, checked by the same function in the page and in the main process. It must never let
 * through another scheme (file:, javascript:, a custom protocol handler, smb:), which
 * `shell.openExternal` would hand to whatever program the OS has registered for it.
 */

import { hasControlCharacter } from './text';

/** Scheme, then an authority that is not empty; no space or control character anywhere. */
const WEB_URL = /^(https?):\/\/([^/?#\\]+)([/?#\\].*)?$/i;

/**
 * The address to open for `text` (trimmed, its scheme in lower case), or undefined when it is not
 * an http(s) address with a host. Checked by hand, not with URL: shared/ runs without the DOM or
 * Node, and a scheme test on the text itself is all the decision needs.
 */
export function webUrl(text: string): string | undefined {
  const trimmed = text.trim();
  if (/\s/.test(trimmed) || hasControlCharacter(trimmed)) return undefined;
  const match = WEB_URL.exec(trimmed);
  if (!match) return undefined;
  const [, scheme = '', authority = '', rest = ''] = match;
  // "http://@" or "http://user@" names no host.
  if (authority.slice(authority.lastIndexOf('@') + 1) === '') return undefined;
  return `${scheme.toLowerCase()}://${authority}${rest}`;
}
