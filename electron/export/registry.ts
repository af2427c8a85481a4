/**
 * Every exporter the main process knows: shared/export's, then KeePass .kdbx (kdbxweb and
 * Argon2 load only when a .kdbx is written). The CLI's `export` and the app's "Export…" pick
 * from this one list.
 */
import { SHARED_EXPORTERS } from '../../shared/export/registry';
import type { Exporter } from '../../shared/export/types';

const kdbxOnDemand: Exporter = {
  name: 'kdbx',
  label: 'KeePass database (.kdbx: KDBX 4, Argon2id)',
  otpOnly: false,
  encrypted: true,
  write: async (entries, options) => (await import('./kdbx')).kdbxExporter.write(entries, options),
};

export const EXPORTERS: readonly Exporter[] = [...SHARED_EXPORTERS, kdbxOnDemand];
