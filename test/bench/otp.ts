/**
 * OTP throughput: TOTP codes per second over 100,000 random secrets for each algorithm,
 * through the engine as Crewvault runs it (otplib's pure-JS HMAC) and with otplib's
 * node:crypto adapter, beside one bare node:crypto HMAC per secret (the floor the issue names).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { NodeCryptoPlugin } from '@otplib/plugin-crypto-node';
import { encodeSecret, OTP_ALGORITHMS, totpCode, type OtpParams } from '../../shared/otp';
import { bestOf, formatRate, printTable, type Row } from './table';

const SECRETS = 100_000;
const NOW_MS = 1_700_000_000_000;

export function benchOtp(): void {
  const keys = Array.from({ length: SECRETS }, () => randomBytes(20));
  const nodeCrypto = new NodeCryptoPlugin();
  const rows: Row[] = [];
  for (const algorithm of OTP_ALGORITHMS) {
    const params: OtpParams[] = keys.map((k) => ({ kind: 'totp', secret: encodeSecret(k), algorithm, digits: 6, period: 30, counter: 0 }));
    const message = Buffer.alloc(8);
    message.writeBigUInt64BE(BigInt(Math.floor(NOW_MS / 30_000)));
    const hmacMs = bestOf(2, () => {
      for (const key of keys) createHmac(algorithm.toLowerCase(), key).update(message).digest();
    });
    // totpCode computes the current and the next code: two HMACs per call.
    const usedMs = bestOf(2, () => {
      for (const p of params) totpCode(p, NOW_MS);
    });
    const nodeMs = bestOf(2, () => {
      for (const p of params) totpCode(p, NOW_MS, { crypto: nodeCrypto });
    });
    const perSecond = (ms: number): number => (SECRETS / ms) * 1000;
    rows.push({
      algorithm,
      'node:crypto HMAC/s (floor)': formatRate(perSecond(hmacMs)),
      'code+next/s (engine, pure-JS HMAC)': formatRate(perSecond(usedMs)),
      'code+next/s (otplib + node:crypto)': formatRate(perSecond(nodeMs)),
      'µs per code+next (engine)': ((usedMs * 1000) / SECRETS).toFixed(2),
      'engine HMACs/s ÷ floor': `${((2 * perSecond(usedMs)) / perSecond(hmacMs)).toFixed(2)}×`,
    });
  }
  printTable(`TOTP over ${SECRETS.toLocaleString('en-US')} random 160-bit secrets (current + next code per call)`, rows);
}
