/**
 * `crewvault code`: the current code for a secret or an otpauth URI, without a vault.
 * Prints the code alone (or JSON); options override what the URI says. The secret may come
 * on standard input (`-`) so it stays out of shell history and the process list.
 */
import { parseArgs } from 'node:util';
import {
  hotpCode,
  MAX_DIGITS,
  MAX_PERIOD,
  MIN_DIGITS,
  MIN_PERIOD,
  OTP_ALGORITHMS,
  resolveOtpSpec,
  steamParams,
  totpCode,
  validateOtpParams,
} from '../../shared/otp';
import { UsageError, type CliCommand, type CliIo } from './io';

const USAGE = `crewvault code <otpauth-URI | base32-secret | -> [--algorithm SHA1|SHA256|SHA512]
               [--digits 6|7|8] [--period SECONDS] [--hotp --counter N] [--steam]
               [--at UNIX_SECONDS] [--json]
  "-" reads the secret or URI from standard input.`;

function wholeNumber(value: string, option: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${option} must be a whole number from ${min} to ${max}, not "${value}"`);
  }
  return Number(value);
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      algorithm: { type: 'string' },
      digits: { type: 'string' },
      period: { type: 'string' },
      hotp: { type: 'boolean' },
      counter: { type: 'string' },
      steam: { type: 'boolean' },
      at: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new UsageError('give exactly one secret key or otpauth URI (or - to read it from stdin)');
  if (values.hotp && values.steam) throw new UsageError('--hotp and --steam cannot be combined');
  if (values.steam && values.digits !== undefined) throw new UsageError('Steam Guard codes always have 5 characters: drop --digits');

  const input = positionals[0] === '-' ? await io.readStdin() : (positionals[0] ?? '');
  const source = resolveOtpSpec({ uri: input });
  let params = source.params;

  if (values.steam) params = { ...steamParams(params.secret), period: params.period };
  if (values.hotp) params = { ...params, kind: 'hotp' };
  if (values.algorithm !== undefined) {
    const algorithm = OTP_ALGORITHMS.find((a) => a === values.algorithm?.toUpperCase());
    if (!algorithm) throw new UsageError(`--algorithm must be SHA1, SHA256 or SHA512, not "${values.algorithm}"`);
    params = { ...params, algorithm };
  }
  if (values.digits !== undefined) params = { ...params, digits: wholeNumber(values.digits, 'digits', MIN_DIGITS, MAX_DIGITS) };
  if (values.period !== undefined) params = { ...params, period: wholeNumber(values.period, 'period', MIN_PERIOD, MAX_PERIOD) };
  if (values.counter !== undefined) {
    if (params.kind !== 'hotp') throw new UsageError('--counter is for HOTP keys: add --hotp');
    params = { ...params, counter: wholeNumber(values.counter, 'counter', 0, Number.MAX_SAFE_INTEGER - 1) };
  } else if (values.hotp && source.params.kind !== 'hotp') {
    throw new UsageError('--hotp needs --counter N (the counter of the code to show)');
  }
  if (params.kind === 'hotp' && values.at !== undefined) throw new UsageError('--at is for time-based codes; HOTP uses --counter');
  validateOtpParams(params);

  if (source.warning) io.err(`crewvault: warning: ${source.warning.message}\n`);
  if (params.kind === 'hotp') {
    const result = hotpCode(params);
    io.out(values.json ? `${JSON.stringify({ kind: params.kind, code: result.code, next: result.next, counter: result.counter })}\n` : `${result.code}\n`);
    return 0;
  }
  const nowMs = values.at === undefined ? io.now() : wholeNumber(values.at, 'at', 0, 253402300799) * 1000;
  const result = totpCode(params, nowMs);
  io.out(
    values.json
      ? `${JSON.stringify({ kind: params.kind, code: result.code, next: result.next, period: result.period, remaining: result.remainingSeconds })}\n`
      : `${result.code}\n`,
  );
  return 0;
}

export const codeCommand: CliCommand = { summary: 'print the current code for a secret key or otpauth URI', usage: USAGE, run };
