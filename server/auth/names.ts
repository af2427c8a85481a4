/**
 * How a user name is compared: trimmed, Unicode NFC, lower case, so "Ada", "ada " and a
 * decomposed "Adà" find one account. The name as typed is kept for display.
 */
export function usernameKey(name: string): string {
  return name.trim().normalize('NFC').toLowerCase();
}
