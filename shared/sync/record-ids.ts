/**
 * The one id of a membership record, apart from the record schemas (records.ts, zod) so a
 * desktop's rotation can name a revoked membership without loading them (#13 perf: team.ts is on
 * every session's path). Pure: the hash comes from the caller; must never take Node or zod in.
 */

/**
 * The one id of the membership of `user` in `group`: a global id made from the two (SHA-256,
 * shaped as one), so a pair has one record whoever writes it, and the server can check it.
 */
export function memberRecordId(group: string, user: string, sha256Hex: (text: string) => string): string {
  // The hash comes from the caller (node:crypto on the server and the desktop): shared/ has no Node.
  const hex = sha256Hex(`crewvault/v1 member\n${group}\n${user}`);
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error('memberRecordId: not a SHA-256 in hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
