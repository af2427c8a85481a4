/**
 * Every exporter the main process knows: shared/export's, then KeePass .kdbx (kdbxweb and
 * Argon2 load only when a .kdbx is written). The CLI's `export` and the app's "Export…" pick
 * from this one list.
 */
import { SHARED_EXPORTERS } from '../../shared/export/registry';
import type { ExportEntry, Exporter, ExportOptions } from '../../shared/export/types';

const kdbxOnDemand: Exporter = {
  name: 'kdbx',
  label: 'KeePass database (.kdbx: KDBX 4, Argon2id)',
  otpOnly: false,
  encrypted: true,
  write: async (entries, options) => (await import('./kdbx')).kdbxExporter.write(entries, options),
};

export const EXPORTERS: readonly Exporter[] = [...SHARED_EXPORTERS, kdbxOnDemand];

/**
 * The export's bytes handed to `use` (written to a file, printed), then wiped whatever
 * happened: the CLI's and the app's exports deliver through here (VaultSession.exportEntries).
 */
export async function withExportBytes(exporter: Exporter, entries: readonly ExportEntry[], options: ExportOptions, use: (bytes: Uint8Array) => Promise<void>): Promise<void> {
  const bytes = await exporter.write(entries, options);
  try {
    await use(bytes);
  } finally {
    bytes.fill(0);
  }
}
