/**
 * The otpauth list: one `otpauth://` URI per line (Google's Key Uri Format), what most
 * authenticator apps import and what shared/import/otpauth.ts reads back. Each line is the URI
 * the vault reveals for that entry (VaultSession.revealOtpSecret), built by `entryOtpUri`,
 * which the KeePass formats share so one entry never has two URIs: issuer = the OTP issuer,
 * else the customer; account = the username, else the title. Entries without a one-time
 * password are left out (the vault counts them). Must never log a line: each holds a key.
 */
import { utf8Encode } from '../bytes';
import { buildOtpUri } from '../otp';
import type { ExportEntry, Exporter } from './types';

/** The entry's otpauth:// URI, as VaultSession.revealOtpSecret builds it; undefined without OTP. */
export function entryOtpUri(entry: ExportEntry): string | undefined {
  if (!entry.otp) return undefined;
  return buildOtpUri({ params: entry.otp.params, issuer: entry.otp.issuer ?? entry.customer, account: entry.username || entry.title });
}

export function otpauthList(entries: readonly ExportEntry[]): string {
  const lines = entries.flatMap((entry) => {
    const uri = entryOtpUri(entry);
    return uri === undefined ? [] : [uri];
  });
  return lines.map((line) => `${line}\n`).join('');
}

export const otpauthExporter: Exporter = {
  name: 'otpauth',
  label: 'otpauth:// list (one URI per line)',
  otpOnly: true,
  encrypted: false,
  write: (entries) => Promise.resolve(utf8Encode(otpauthList(entries))),
};
