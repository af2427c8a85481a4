/**
 * Every exporter of shared/, by the name `--format` takes (each the name of the importer that
 * reads it back). The main process adds the one that needs Node (KeePass .kdbx).
 */
import { aegisExporter } from './aegis';
import { keepassxcCsvExporter } from './keepassxc-csv';
import { otpauthExporter } from './otpauth';
import type { Exporter } from './types';

export const SHARED_EXPORTERS: readonly Exporter[] = [otpauthExporter, aegisExporter, keepassxcCsvExporter];
