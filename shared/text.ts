/** Small text checks shared by every layer that validates names typed by people. */

/** True when `text` holds a C0 control character or DEL (newline and tab included). */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * Characters a name must not hold because they make two different names look the same, or a
 * name look like something it is not: C0 and C1 controls, format characters (zero-width
 * spaces and joiners, bidi embeddings, overrides and isolates, the BOM, tag characters, soft
 * hyphen), line and paragraph separators, and the blank fillers Unicode draws as nothing.
 * (Zero-width joiners are part of some scripts' spelling; a name here is an identifier that
 * people compare by eye, so they are refused too.)
 */
const LOOK_ALIKE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u034F\u115F\u1160\u180E\u3164\uFFA0]/u;

/**
 * A name as it is stored and compared: Unicode NFC (so "é" typed two ways is one name), spaces
 * trimmed. INVALID-worthy problems are returned as a sentence naming the code point (never the
 * rest of the input), or undefined when the name is clean.
 */
export function normaliseNameText(text: string): string {
  return text.normalize('NFC').trim();
}

export function lookAlikeProblem(label: string, text: string): string | undefined {
  const found = LOOK_ALIKE.exec(text);
  if (!found) return undefined;
  const codePoint = found[0].codePointAt(0) ?? 0;
  const position = [...text.slice(0, found.index)].length + 1;
  return `${label} has an invisible or direction-changing character (U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}) at position ${position}.`;
}

/**
 * Text from a file (an import's titles, problems, warnings) made safe to print: controls,
 * format and separator characters written as "<U+001B>", so an escape sequence in a title
 * cannot drive a terminal (clear it, write the clipboard), and cut to `max` characters.
 */
export function printable(text: string, max = 200): string {
  let out = '';
  for (const ch of text) {
    const shown = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(ch) ? `<U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}>` : ch;
    if (out.length + shown.length > max) return `${out}…`;
    out += shown;
  }
  return out;
}

/**
 * An error's message as a door shows it (router reply, CLI stderr): one line, printable and
 * bounded. Messages are written as one line, but one built around text from outside (a file
 * name, a server's answer) could carry a line break or an escape sequence that would forge a
 * second "crewvault: …" line or restyle a terminal: every door passes messages through here
 * rather than trusting each place that builds one. A break is shown as "<U+000A>", not cut
 * at, so what followed it is still there to read.
 */
export function oneLine(message: string, max = 500): string {
  return printable(message, max);
}

/** True when `text` holds a C1 control character (U+0080–U+009F), which no name or field needs. */
export function hasC1Control(text: string): boolean {
  return /[\u0080-\u009f]/.test(text);
}
