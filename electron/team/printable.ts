/**
 * What a team server says, made safe to print on a terminal: one line, no control or format
 * characters (no escape sequence that moves the cursor, sets the title or writes the
 * clipboard; no right-to-left override), bounded. The server is another machine.
 */
export function printable(message: string, max = 300): string {
  return message.replace(/\p{C}+/gu, ' ').trim().slice(0, max);
}
