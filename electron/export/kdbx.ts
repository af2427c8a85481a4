/**
 * A KeePass database (.kdbx) for leaving: KDBX 4, Argon2id, AES-256, written by kdbxweb so
 * KeePassXC (and `keepassxc-cli`) open it with the new password the person chose. One group
 * per customer under the root; each entry's Title, UserName, Password, URL and Notes, and its
 * one-time password in the `otp` field as the otpauth:// URI KeePassXC itself stores there
 * (shared/export/otpauth.ts `entryOtpUri`). electron/import/kdbx.ts reads it back.
 *
 * It lives in the main process because kdbxweb needs node:crypto and Argon2 (the `argon2`
 * package, registered with kdbxweb by electron/import/kdbxweb-argon2.ts, which this loads). Must never
 * log or put in an error a field's value or the password.
 */
import * as kdbxweb from 'kdbxweb';
// Registers kdbxweb's Argon2 (the `argon2` package) for writing; reading no longer uses kdbxweb.
import '../import/kdbxweb-argon2';
import { CrewvaultError } from '../../shared/errors';
import { entryOtpUri } from '../../shared/export/otpauth';
import type { ExportEntry, Exporter, ExportOptions } from '../../shared/export/types';

/**
 * KeePassXC's defaults for a new KDBX 4 database (64 MiB), with Argon2id and enough passes to
 * cost about half a second here; well inside the bounds our importer will run.
 */
export const KDBX_ARGON2 = { memoryBytes: 64 * 1024 * 1024, iterations: 10, parallelism: 2 } as const;
const DATABASE_NAME = 'Crewvault export';

function argon2idHeader(db: kdbxweb.Kdbx): void {
  db.setVersion(4);
  db.setKdf(kdbxweb.Consts.KdfId.Argon2id);
  const params = db.header.kdfParameters;
  if (!params) throw new CrewvaultError('INTERNAL', 'kdbxweb made no KDF parameters.');
  params.set('M', kdbxweb.VarDictionary.ValueType.UInt64, kdbxweb.Int64.from(KDBX_ARGON2.memoryBytes));
  params.set('I', kdbxweb.VarDictionary.ValueType.UInt64, kdbxweb.Int64.from(KDBX_ARGON2.iterations));
  params.set('P', kdbxweb.VarDictionary.ValueType.UInt32, KDBX_ARGON2.parallelism);
}

/** kdbxweb makes a Recycle Bin in every new database: an empty group nobody asked for. */
function dropRecycleBin(db: kdbxweb.Kdbx): void {
  const bin = db.meta.recycleBinUuid;
  const root = db.getDefaultGroup();
  if (bin) root.groups = root.groups.filter((group) => !group.uuid.equals(bin));
  db.meta.recycleBinEnabled = false;
  db.meta.recycleBinUuid = undefined;
}

function addEntry(db: kdbxweb.Kdbx, group: kdbxweb.KdbxGroup, entry: ExportEntry): void {
  const item = db.createEntry(group);
  item.fields.set('Title', entry.title);
  item.fields.set('UserName', entry.username);
  // Protected in the file (inner stream cipher) as KeePassXC protects them.
  item.fields.set('Password', kdbxweb.ProtectedValue.fromString(entry.password));
  item.fields.set('URL', entry.url);
  item.fields.set('Notes', entry.notes);
  const uri = entryOtpUri(entry);
  if (uri !== undefined) item.fields.set('otp', kdbxweb.ProtectedValue.fromString(uri));
  item.times.creationTime = new Date(entry.createdAt);
  item.times.lastModTime = new Date(entry.updatedAt);
}

export async function kdbxDatabase(entries: readonly ExportEntry[], options: ExportOptions): Promise<Uint8Array> {
  if (options.password === undefined || options.password === '') throw new CrewvaultError('USAGE', 'A KeePass database needs a new password.');
  const credentials = new kdbxweb.KdbxCredentials(kdbxweb.ProtectedValue.fromString(options.password));
  const db = kdbxweb.Kdbx.create(credentials, DATABASE_NAME);
  argon2idHeader(db);
  dropRecycleBin(db);
  const root = db.getDefaultGroup();
  const groups = new Map<string, kdbxweb.KdbxGroup>();
  for (const entry of entries) {
    let group = groups.get(entry.customer);
    if (!group) {
      group = db.createGroup(root, entry.customer);
      groups.set(entry.customer, group);
    }
    addEntry(db, group, entry);
  }
  return new Uint8Array(await db.save());
}

export const kdbxExporter: Exporter = {
  name: 'kdbx',
  label: 'KeePass database (.kdbx: KDBX 4, Argon2id)',
  otpOnly: false,
  encrypted: true,
  write: kdbxDatabase,
};
