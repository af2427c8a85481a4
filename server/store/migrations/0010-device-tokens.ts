/**
 * Schema 10: a device proves it is the one that was authorised or trusted with a token the
 * server gave it at sign-in, not with its device id alone (an id travels in every request and
 * sits in `sessions` and the audit, so it is no secret). Each session keeps the SHA-256 of the
 * device token it signed in with (a new one, or the device's own it presented); a device row
 * keeps the SHA-256 of the token of the session that authorised or trusted it. A device counts
 * as authorised or trusted in a session only when the two match. Rows from schema 9 have no
 * token: their devices are asked once more.
 */
export const migration0010 = {
  version: 10,
  name: 'device-tokens',
  sql: `
ALTER TABLE sessions ADD COLUMN device_token_hash text;
ALTER TABLE devices ADD COLUMN token_hash text;
`,
} as const;
