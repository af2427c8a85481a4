/**
 * Schema 3: each person's key material, sealed by their own client under a key from its
 * OPAQUE export key (which only someone who knows the password can compute). The server keeps
 * and hands back these bytes and can open none of them. NULL only for rows from schema 1-2.
 */
export const migration0003 = {
  version: 3,
  name: 'sealed-keys',
  sql: `
ALTER TABLE users ADD COLUMN sealed_keys text;
`,
} as const;
