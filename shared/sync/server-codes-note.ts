/**
 * What "the team server computes codes" means, in the words the CLI (crewvault group) and the
 * Groups screen show, apart from server-codes.ts so neither loads its zod schemas for a sentence
 * (#13 perf: `crewvault group` and the CLI's start). Text only: must never import a schema.
 */
/**
 * What a person turning the setting on is told (the group screen, `crewvault group set`): what
 * the team server can then see, and that groups without it stay end-to-end encrypted.
 */
export const SERVER_CODES_NOTE = 'With "server computes codes" on, the team server holds this group\'s TOTP keys (sealed to its own code key, which only it can open) and can compute their codes; only members whose role may reveal OTP keys (otp.reveal_secret) hold the group\'s secret key: every other member holds its list key alone, gets codes from the server (with otp.view) and never receives the keys, and cannot reveal passwords, create or edit entries in this group. The server still cannot read passwords, notes, titles or any other group. HOTP keys stay with the people who hold the group\'s keys. Groups without this setting stay end-to-end encrypted: the server sees none of their keys.';
