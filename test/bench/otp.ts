/**
 * OTP throughput: TOTP codes per second over 100,000 random secrets for each algorithm,
 * through otplib with node:crypto (what the main process uses) and with otplib's pure-JS
 * default, beside one bare node:crypto HMAC per secret (the floor no code path can beat).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { encodeSecret, OTP_ALGORITHMS, totpCode, type OtpParams } from '../../shared/otp';
import { nodeCrypto } from '../../electron/otp-crypto';
import { bestOf, formatRate, printTable, type Row } from './table';

const SECRETS = 100_000;
const NOW_MS = 1_700_000_000_000;

export function benchOtp(): void {
  const keys = Array.from({ length: SECRETS }, () => randomBytes(20));
  const rows: Row[] = [];
  for (const algorithm of OTP_ALGORITHMS) {
    const params: OtpParams[] = keys.map((k) => ({ kind: 'totp', secret: encodeSecret(k), algorithm, digits: 6, period: 30, counter: 0 }));
    const message = Buffer.alloc(8);
    message.writeBigUInt64BE(BigInt(Math.floor(NOW_MS / 30_000)));
    const hmacMs = bestOf(2, () => {
      for (const key of keys) createHmac(algorithm.toLowerCase(), key).update(message).digest();
    });
    // totpCode computes the current and the next code: two HMACs per call.
    const nodeMs = bestOf(2, () => {
      for (const p of params) totpCode(p, NOW_MS, { crypto: nodeCrypto });
    });
    const pureMs = bestOf(1, () => {
      for (const p of params) totpCode(p, NOW_MS);
    });
    const perSecond = (ms: number): number => (SECRETS / ms) * 1000;
    rows.push({
      algorithm,
      'node:crypto HMAC/s (floor)': formatRate(perSecond(hmacMs)),
      'codes/s (otplib + node:crypto)': formatRate(perSecond(nodeMs)),
      'codes/s (otplib pure JS)': formatRate(perSecond(pureMs)),
      'µs per code+next': ((nodeMs * 1000) / SECRETS).toFixed(2),
      'vs floor (2 HMACs)': `${(nodeMs / (2 * hmacMs)).toFixed(2)}×`,
    });
  }
  printTable(`TOTP over ${SECRETS.toLocaleString('en-US')} random 160-bit secrets (current + next code per call)`, rows);
}
