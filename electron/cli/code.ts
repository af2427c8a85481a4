/**
 * `crewvault code -`: the current code for a secret key or an otpauth URI, without a vault.
 * Prints the code alone (or JSON); options override what the URI says. The key is read like a
 * password (a hidden prompt, or the first line of piped stdin), never taken as an argument:
 * needing no vault does not make it less secret in the process list or shell history.
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

const USAGE = `crewvault code - [--algorithm SHA1|SHA256|SHA512]
               [--digits 6|7|8] [--period SECONDS] [--hotp --counter N] [--steam]
               [--at UNIX_SECONDS] [--json]
  "-": the otpauth URI or base32 secret key is asked for on a terminal (not echoed), or read
  from the first line of piped stdin; it is never an argument.`;

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
  // Not quoted back, and refused before anything else: the argument is likely the secret itself.
  if (positionals.length !== 1 || positionals[0] !== '-') {
    throw new UsageError('give "-" and the secret key or otpauth URI on standard input (or at the prompt): "crewvault code -"; an argument would show in the process list');
  }
  if (values.hotp && values.steam) throw new UsageError('--hotp and --steam cannot be combined');
  if (values.steam && values.digits !== undefined) throw new UsageError('Steam Guard codes always have 5 characters: drop --digits');

  const source = resolveOtpSpec({ uri: await io.readSecret('Secret key or otpauth URI: ') });
  let params = source.params;

  // Steam is one shape (5 characters, SHA1, 30 s): the source's own settings do not carry over.
  if (values.steam) params = steamParams(params.secret);
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
