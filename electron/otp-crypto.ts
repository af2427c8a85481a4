/**
 * The HMAC behind OTP codes in the main process and the CLI: node:crypto through otplib's
 * own adapter, several times faster than the pure-JS default the renderer would use.
 */
import { NodeCryptoPlugin } from '@otplib/plugin-crypto-node';

export const nodeCrypto = Object.freeze(new NodeCryptoPlugin());
