/**
 * What a team server says, made safe to print on a terminal: one line, no control or format
 * characters and no line or paragraph separator (no escape sequence that moves the cursor,
 * sets the title or writes the clipboard; no right-to-left override), bounded. The server is
 * another machine.
 */
export function printable(message: string, max = 300): string {
  // U+2028 and U+2029 are separators, not controls, but break the line all the same.
  return message.replace(/[\p{C}\p{Zl}\p{Zp}]+/gu, ' ').trim().slice(0, max);
}
