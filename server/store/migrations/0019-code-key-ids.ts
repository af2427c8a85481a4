/**
 * Schema 19: which of the server's code keys each sealed OTP key was sealed to (#15, rotating the
 * code key: server/codes/key-ring.ts). `code_key` is the key's fingerprint; NULL for seals made
 * before it was kept, when the server had only ever had one key (the first rotation names them).
 * A retiring key is deleted only once no row names it.
 * Must never: hold a key, only its public fingerprint.
 */
export const migration0019 = {
  version: 19,
  name: 'code-key-ids',
  sql: `
ALTER TABLE server_code_keys ADD COLUMN code_key text;
CREATE INDEX server_code_keys_by_code_key ON server_code_keys (code_key);
`,
};
