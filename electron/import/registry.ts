/**
 * Every importer the main process knows: shared/import's registry, then those needing Node
 * (KeePass .kdbx, a streaming reader loaded only when a .kdbx is imported: `crewvault otp`
 * must not pay for it at start). The CLI's `import` and the app's "Import…" both pick from
 * this one list, so the two doors read the same formats the same way.
 */
import { SHARED_IMPORTERS } from '../../shared/import/registry';
import type { Importer } from '../../shared/import/types';
import { isKeePassDatabase } from './kdbx-signature';
import { onePasswordImporter } from './onepassword';
import { qrImageImporter } from './qr-images';

const kdbxOnDemand: Importer = {
  name: 'kdbx',
  label: 'KeePass database (.kdbx: KDBX 3.1 and 4, password only)',
  detect: isKeePassDatabase,
  needsPassword: () => true,
  read: async (data, options) => (await import('./kdbx')).kdbxImporter.read(data, options),
};

/** shared/import's list with its 1Password reader given the .1pux (ZIP) too, then QR images and .kdbx. */
export const IMPORTERS: readonly Importer[] = [...SHARED_IMPORTERS.map((i) => (i.name === onePasswordImporter.name ? onePasswordImporter : i)), qrImageImporter, kdbxOnDemand];

/** Far above any real export (a 100,000-entry .kdbx is about 20 MB); bounds memory. */
export const MAX_IMPORT_BYTES = 64 * 1024 * 1024;

/** The input without the UTF-8 byte-order mark some Windows editors put first (line 1 would fail). */
export function withoutBom(bytes: Uint8Array): Uint8Array {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}
