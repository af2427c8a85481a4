/**
 * Aegis Authenticator's plain vault export, written as Aegis's docs/vault.md describes it
 * (https://github.com/beemdevelopment/Aegis/blob/master/docs/vault.md) and as
 * shared/import/aegis.ts reads it back:
 *
 *   { version: 1, header: { slots: null, params: null },
 *     db: { version: 3, entries: [...], groups: [{ uuid, name }], icons_optimized: true } }
 *
 * Each customer is a group; an entry's issuer is its title (what Aegis shows first), its name
 * the username, its note the notes. Aegis holds one-time passwords only: entries without one
 * are left out (the vault counts them), and passwords and URLs have no place in it. The export
 * is plain by design (`--plaintext`): Aegis encrypts it again on import. Must never log it.
 */
import { utf8Encode } from '../bytes';
import type { ExportEntry, Exporter, ExportOptions } from './types';

/** The vault file and content versions Aegis 3.x writes (and our importer was written against). */
const FILE_VERSION = 1;
const CONTENT_VERSION = 3;

type AegisInfo =
  | { secret: string; algo: string; digits: number; period: number }
  | { secret: string; algo: string; digits: number; counter: number };

interface AegisEntry {
  type: 'totp' | 'hotp' | 'steam';
  uuid: string;
  name: string;
  issuer: string;
  note: string;
  favorite: false;
  icon: null;
  icon_mime: null;
  icon_hash: null;
  info: AegisInfo;
  groups: string[];
}

function aegisEntry(entry: ExportEntry, groupUuid: string, uuid: string): AegisEntry | undefined {
  const otp = entry.otp;
  if (!otp) return undefined;
  const { kind, secret, algorithm, digits, period, counter } = otp.params;
  return {
    type: kind,
    uuid,
    name: entry.username,
    issuer: entry.title,
    note: entry.notes,
    favorite: false,
    icon: null,
    icon_mime: null,
    icon_hash: null,
    // Aegis keeps the key unpadded base32, as the vault stores it; HOTP has a counter, not a period.
    info: kind === 'hotp' ? { secret, algo: algorithm, digits, counter } : { secret, algo: algorithm, digits, period },
    groups: [groupUuid],
  };
}

export function aegisVault(entries: readonly ExportEntry[], options: ExportOptions): string {
  const groups = new Map<string, string>();
  const written: AegisEntry[] = [];
  for (const entry of entries) {
    if (!entry.otp) continue;
    let groupUuid = groups.get(entry.customer);
    if (groupUuid === undefined) {
      groupUuid = options.randomUuid();
      groups.set(entry.customer, groupUuid);
    }
    const converted = aegisEntry(entry, groupUuid, options.randomUuid());
    if (converted) written.push(converted);
  }
  const db = {
    version: CONTENT_VERSION,
    entries: written,
    groups: [...groups].map(([name, uuid]) => ({ uuid, name })),
    icons_optimized: true,
  };
  return `${JSON.stringify({ version: FILE_VERSION, header: { slots: null, params: null }, db }, null, 4)}\n`;
}

export const aegisExporter: Exporter = {
  name: 'aegis',
  label: 'Aegis (plain JSON)',
  otpOnly: true,
  encrypted: false,
  write: (entries, options) => Promise.resolve(utf8Encode(aegisVault(entries, options))),
};
