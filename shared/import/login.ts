/**
 * One login item of a password manager's export (Bitwarden, 1Password), converted the same way
 * whatever the format: a name, an optional customer, username, password, URL, notes, and an OTP
 * field holding what those apps accept there — an otpauth:// URI, `steam://KEY`, or a bare
 * base32 key (then TOTP SHA1, 6 digits, 30 s). The issuer is the URI's, else the item's name.
 * Items the vault does not keep (cards, identities) are counted and said in one warning.
 *
 * Must never put a field's value in a problem or warning: only the item's position and name.
 */
import { CrewvaultError } from '../errors';
import { defaultOtpParams, looksLikeUri, normaliseSecret, parseOtpUri } from '../otp';
import { takeConverted } from './collect';
import { entryWhere } from './keepassxc-csv';
import type { ImportedEntry, ImportProblem, ImportResult } from './types';

/** The customer a folder, collection or tag name stands for: its top level ("Acme/Servers" → "Acme"). */
export function topLevel(name: string): string | undefined {
  const top = name.split('/')[0]?.trim();
  return top || undefined;
}

export interface LoginFields {
  readonly name: string;
  readonly customer?: string;
  readonly notes: string;
  readonly username: string;
  readonly password: string;
  readonly url: string;
  /** The OTP field as the app stores it ('' when none). */
  readonly totp: string;
}

interface Conversion {
  readonly entry: ImportedEntry;
  readonly warning?: string;
}

/** Converts one login or note; throws the OTP engine's CrewvaultError for a bad key. */
export function convertLogin(item: LoginFields): Conversion {
  const title = item.name.trim();
  if (!title) throw new CrewvaultError('INVALID_INPUT', 'The item has no name.');
  let otp: ImportedEntry['otp'];
  let warning: string | undefined;
  const totp = item.totp.trim();
  if (totp) {
    if (looksLikeUri(totp)) {
      const uri = parseOtpUri(totp);
      otp = { params: uri.params, issuer: uri.issuer ?? title };
      warning = uri.warning?.message;
    } else {
      const normalised = normaliseSecret(totp);
      otp = { params: defaultOtpParams(normalised.secret), issuer: title };
      warning = normalised.warning?.message;
    }
  }
  const entry: ImportedEntry = {
    ...(item.customer ? { customer: item.customer } : {}),
    title,
    ...(item.username ? { username: item.username } : {}),
    ...(item.password ? { password: item.password } : {}),
    ...(item.url ? { url: item.url } : {}),
    ...(item.notes ? { notes: item.notes } : {}),
    ...(otp ? { otp } : {}),
  };
  return { entry, ...(warning ? { warning } : {}) };
}

/** Entries, problems and warnings of one export, in the shape of ImportResult. */
export class LoginCollector {
  readonly entries: ImportedEntry[] = [];
  readonly where: string[] = [];
  readonly problems: ImportProblem[] = [];
  readonly warnings: string[] = [];
  private readonly leftOut = new Map<string, number>();
  private readonly format: string;

  constructor(format: string) {
    this.format = format;
  }

  add(index: number, item: LoginFields): void {
    takeConverted(this, entryWhere(index, item.name), () => {
      const { entry, warning } = convertLogin(item);
      return { entry, warnings: warning ? [warning] : [] };
    });
  }

  problem(index: number, name: string, message: string): void {
    this.problems.push({ where: entryWhere(index, name), message });
  }

  /** An item of a kind the vault does not keep ("card", "identity"): counted, said once. */
  leaveOut(kind: string): void {
    this.leftOut.set(kind, (this.leftOut.get(kind) ?? 0) + 1);
  }

  result(): ImportResult {
    const warnings = [...this.warnings];
    if (this.leftOut.size > 0) {
      const counts = [...this.leftOut].map(([kind, n]) => `${n} ${kind}${n === 1 ? '' : kind.endsWith('y') ? '' : 's'}`);
      warnings.push(`Left out ${counts.join(', ')}: Crewvault imports logins and secure notes.`);
    }
    return { format: this.format, entries: this.entries, problems: this.problems, warnings, where: this.where };
  }
}
