/**
 * Schema 18: each account's X25519 public key in plain (#15, team join): published by the
 * account's own client once it has opened its sealed key material at a sign-in, handed to owners
 * and admins so an owner can bind a vault user to the account (re-keying them to it). The server
 * cannot check it against the sealed keys; the person reads its fingerprint to the owner, apart
 * from the server (crewvault login --invite prints it), so a key the server substitutes is seen.
 * Must never: hold a private key.
 */
export const migration0018 = {
  version: 18,
  name: 'account-public-keys',
  sql: `
ALTER TABLE users ADD COLUMN public_key text;
`,
};
