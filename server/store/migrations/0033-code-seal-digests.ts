/**
 * Schema 33: what each sealed TOTP key holds, named by a keyed digest (server/codes/held.ts), so a desktop can ask which
 * of its keys the server holds already (POST /v1/codes/keys/held) and hand over only the others. Before, every new
 * desktop process (each `crewvault sync` run) sealed every key again, and the server opened, wrote and audited each.
 * Seals stored before have none: each is handed once more, and has one from then on.
 * Must never: hold the desktop's digest itself (a short key could be guessed from it by whoever reads the database).
 */
export const migration0033 = {
  version: 33,
  name: 'code-seal-digests',
  sql: `
ALTER TABLE server_code_keys ADD COLUMN IF NOT EXISTS digest text;
`,
} as const;
