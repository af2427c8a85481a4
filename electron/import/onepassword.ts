/**
 * 1Password's .1pux (https://support.1password.com/1pux-format/): a ZIP holding
 * `export.attributes`, `export.data` and `files/`. Only export.data is read (attachments are
 * not entries); shared/import/onepassword.ts converts it, and 1Password's CSV as it is. This
 * wrapper exists because unzipping needs Node's zlib.
 */
import { onePasswordImporter as readsInside, readOnePasswordExportData } from '../../shared/import/onepassword';
import type { Importer } from '../../shared/import/types';
import { isZip, readZipEntry } from './zip';

/** What export.data may unpack to: far above a real account's (10,000 items are ~20 MB). */
const MAX_EXPORT_DATA_BYTES = 256 * 1024 * 1024;

/** Looks for the name in the ZIP's first local header or its directory: cheap, never throws. */
function isOnePux(data: Uint8Array): boolean {
  if (!isZip(data)) return false;
  const marker = Buffer.from('export.data', 'latin1');
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).includes(marker);
}

export const onePasswordImporter: Importer = {
  ...readsInside,
  detect: (data) => isOnePux(data) || readsInside.detect(data),
  async read(data, options) {
    if (!isZip(data)) return readsInside.read(data, options);
    return Promise.resolve(readOnePasswordExportData(readZipEntry(data, 'export.data', '1Password export (.1pux)', MAX_EXPORT_DATA_BYTES)));
  },
};
