/**
 * Every importer of shared/, in the order `auto` tries them (the most specific shapes first:
 * a JSON export is recognised by its fields before anything looser). The main process adds
 * the ones that need Node (KeePass .kdbx). Picking a format: by `--format NAME`, or by content.
 */
import { CrewvaultError } from '../errors';
import { aegisImporter } from './aegis';
import { bitwardenImporter } from './bitwarden';
import { enteImporter } from './ente';
import { keepassxcCsvImporter } from './keepassxc-csv';
import { mappedCsvImporter } from './mapped-csv';
import { onePasswordImporter } from './onepassword';
import { otpauthImporter } from './otpauth';
import { twofasImporter } from './twofas';
import type { Importer } from './types';

// Ente before the otpauth list: an Ente export is otpauth lines too, and Ente's reader knows
// its quirks (steam URIs, its tags and notes); the plain list is the catch-all. 1Password's CSV
// holds otpauth URIs as well, so it comes before both. A generic CSV is never recognised (its
// columns are the person's to name), so it is last and only ever chosen by name.
export const SHARED_IMPORTERS: readonly Importer[] = [aegisImporter, twofasImporter, bitwardenImporter, keepassxcCsvImporter, onePasswordImporter, enteImporter, otpauthImporter, mappedCsvImporter];

/** The importer for `name` ("auto": the first whose `detect` recognises `data`). */
export function chooseImporter(importers: readonly Importer[], name: string, data: Uint8Array): Importer {
  if (name === 'auto') {
    const found = importers.find((importer) => importer.detect(data));
    if (!found) throw new CrewvaultError('INVALID_INPUT', `The file is in no format Crewvault reads (${importers.map((i) => i.name).join(', ')}); name one with --format.`);
    return found;
  }
  const named = importers.find((importer) => importer.name === name.toLowerCase());
  if (!named) throw new CrewvaultError('INVALID_INPUT', `Unknown import format "${name}": one of auto, ${importers.map((i) => i.name).join(', ')}.`);
  return named;
}
