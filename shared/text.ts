/** Small text checks shared by every layer that validates names typed by people. */

/** True when `text` holds a C0 control character or DEL (newline and tab included). */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
