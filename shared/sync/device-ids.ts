/**
 * Who a device is (#15, docs/SYNC.md "Who a device is"): a device id nobody else can claim. A new
 * id is 32 bytes, the SHA-256 of `deviceIdText` (the vault, the public signing key of the device's
 * first signer, a 32-byte random birth value the file keeps), and the device's first event carries
 * the birth value as its link (`devicePrev`). Whoever starts a 32-byte device's chain must show a
 * birth value deriving the id from the key that signed that first event; 16-byte ids (every device
 * made before) keep the old rule: a chain starts with no link. The one rule the team server
 * (server/sync/verify.ts) and desktops (store-audit.ts, electron/team/history-verify.ts) judge by.
 * Pure: the caller hashes (shared/ has no Node) and checks the signature.
 * Must never: take a chain start on a 32-byte id without a birth value that derives it from the
 * signer's own key.
 */

/** Bytes of a derived device id (SHA-256) and of its birth value. */
export const DERIVED_DEVICE_ID_BYTES = 32;
export const DEVICE_BIRTH_BYTES = 32;

/** The text (UTF-8) whose SHA-256 is a derived device id: the vault, the first signer's raw public key in standard base64, the birth value in hex. */
export function deviceIdText(vault: string, publicKeyBase64: string, birthHex: string): string {
  return JSON.stringify(['crewvault/v2 device', vault, publicKeyBase64, birthHex]);
}

/** Whether a device id of `bytes` bytes is derived (its chain starts with a birth value), not one made before (16 bytes: no link at the start). */
export function isDerivedDeviceId(bytes: number): boolean {
  return bytes === DERIVED_DEVICE_ID_BYTES;
}

/**
 * Why the first event a judge holds of a derived (32-byte) device does not start that device's
 * chain, or undefined when it does. `link`: the event's `devicePrev` (null: none); `derives(birth)`:
 * whether the id is the SHA-256 of deviceIdText over this vault, the event's signing key and that
 * birth value (asked only for a link of 32 bytes). Other ids keep the old rule (the caller's).
 */
export function derivedChainStartFault<L extends { readonly length: number }>(link: L | null, derives: (birth: L) => boolean): string | undefined {
  if (link === null) return 'starts a derived device\'s chain without the birth value its id comes from';
  if (link.length !== DEVICE_BIRTH_BYTES || !derives(link)) return 'starts a device\'s chain whose id its signer\'s key does not derive (another person\'s device)';
  return undefined;
}
