/**
 * The KeePass file signature, apart from the importer (kdbx.ts): recognising a .kdbx costs
 * eight bytes, while reading one loads the reader and its XML parser (saxes), which the CLI
 * loads only when it imports one.
 */
export const SIGNATURE_1 = 0x9aa2d903;
export const SIGNATURE_KDBX = 0xb54bfb67;
export const SIGNATURE_KDB = 0xb54bfb65; // KeePass 1.x

export function u32(data: Uint8Array, at: number): number {
  return ((data[at] ?? 0) | ((data[at + 1] ?? 0) << 8) | ((data[at + 2] ?? 0) << 16) | ((data[at + 3] ?? 0) << 24)) >>> 0;
}

/** A KeePass database (2.x .kdbx, or 1.x .kdb, which the importer refuses with advice). */
export function isKeePassDatabase(data: Uint8Array): boolean {
  return data.length >= 8 && u32(data, 0) === SIGNATURE_1 && (u32(data, 4) === SIGNATURE_KDBX || u32(data, 4) === SIGNATURE_KDB);
}
