/**
 * Recovery codes: ten, made when an authenticator is set up and shown then; each stands in
 * for the authenticator once. Kept as HMACs under a key from the server's key file for
 * checking, and all ten sealed for their owner under the server's secrets key (bound to their
 * id), so "View recovery codes" shows them again, as QwikClient's does, but only within five
 * minutes of a second step done in that session (re-authentication); ten new ones replace them
 * under the same condition. The server can open the
 * sealed list: it already holds the authenticator's key, so this gives it nothing more.
 *
 * Must never: log or audit a code; show the codes to a session without a fresh second step.
 */
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import type { ServerRouteInput, ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { appendAudit, recordAudit } from '../audit';
import type { ServerContext } from '../context';
import { keyedHash, openSecret, sealSecret } from '../keys';
import type { Queryable } from '../store/db';
import { lockAuthenticator, recoveryCodeHashes, replaceRecoveryCodes, sealedRecoveryCodes, spendRecoveryCode } from '../store/mfa';
import { checkSecondStep, requireFreshProof } from './second-step';
import type { Authenticated } from './sessions';

export const RECOVERY_CODES = 10;
/** What the sealed list holds, checked when opened like anything read back. */
const sealedCodes = z.array(z.string()).length(RECOVERY_CODES);
/** How recent the session's second step must be to see the codes again. */
export const RECOVERY_VIEW_FRESH_MS = 5 * 60_000;
/** 32 letters and digits without 0/O, 1/I: 50 bits a code, read aloud without doubt. */
const RECOVERY_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** Recovery codes as people copy them (XXXXX-XXXXX): compared without case, spaces or hyphens. */
function normalise(code: string): string {
  return code.replace(/[\s-]/g, '').toUpperCase();
}

function codeHash(ctx: ServerContext, userId: string, code: string): string {
  return keyedHash(ctx.keys, `recovery ${userId}`, normalise(code));
}

function sealedPurpose(userId: string): string {
  return `crewvault mfa recovery codes ${userId}`;
}

/** Ten new codes for `userId`, replacing any before, inside the caller's transaction; returned to show once. */
export async function newRecoveryCodes(tx: Queryable, ctx: ServerContext, userId: string): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODES }, () => {
    let raw = '';
    for (let i = 0; i < 10; i += 1) raw += RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)];
    return `${raw.slice(0, 5)}-${raw.slice(5)}`;
  });
  await replaceRecoveryCodes(tx, userId, codes.map((code) => codeHash(ctx, userId, code)), sealSecret(ctx.keys, sealedPurpose(userId), JSON.stringify(codes)));
  return codes;
}

/** How many of the person's codes are still unused. */
export async function recoveryCodesLeft(db: Queryable, userId: string): Promise<number> {
  return (await recoveryCodeHashes(db, userId)).filter((code) => !code.used).length;
}

/** The second step with a recovery code: each works once, and a wrong one counts like a wrong code. */
export async function useRecoveryCode(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'mfaRecovery'>, source: string): Promise<ServerRouteOutput<'mfaRecovery'>> {
  const userId = auth.user.id;
  return checkSecondStep<ServerRouteOutput<'mfaRecovery'>>(ctx, auth, 'mfa.recovery', source, async (tx) => {
    const row = await lockAuthenticator(tx, userId);
    if (row === undefined || !row.enabled) return { error: new CrewvaultError('INVALID_INPUT', 'You have no authenticator on this server') };
    if (!await spendRecoveryCode(tx, userId, codeHash(ctx, userId, input.code), ctx.now())) return 'wrong';
    return { value: { secondStep: 'done' as const, recoveryCodesLeft: await recoveryCodesLeft(tx, userId) } };
  });
}

/** The codes again, each marked used or not: only within five minutes of this session's second step. */
export async function viewRecoveryCodes(ctx: ServerContext, auth: Authenticated, source: string): Promise<ServerRouteOutput<'mfaRecoveryCodes'>> {
  const userId = auth.user.id;
  const { secondStepAt } = auth.session;
  if (secondStepAt === null || ctx.now() - secondStepAt > RECOVERY_VIEW_FRESH_MS) {
    throw new CrewvaultError('MFA_REQUIRED', 'Enter a code from your authenticator again to see your recovery codes');
  }
  const sealed = await sealedRecoveryCodes(ctx.db, userId);
  if (sealed === null) throw new CrewvaultError('NOT_FOUND', 'You have no recovery codes on this server');
  const opened = openSecret(ctx.keys, sealedPurpose(userId), sealed);
  if (opened === undefined) throw new CrewvaultError('INTERNAL', 'recovery codes do not open with this server\'s key');
  const used = new Map((await recoveryCodeHashes(ctx.db, userId)).map((code) => [code.hash, code.used]));
  const codes = sealedCodes.parse(JSON.parse(opened)).map((code) => ({ code, used: used.get(codeHash(ctx, userId, code)) ?? true }));
  await recordAudit(ctx, { kind: 'mfa.recovery-codes-viewed', actorId: userId, subjectId: userId, source });
  return { codes };
}

/** Ten new codes in place of the old (which stop working at once): only within five minutes of this session's second step. */
export async function renewRecoveryCodes(ctx: ServerContext, auth: Authenticated, source: string): Promise<ServerRouteOutput<'mfaRecoveryRenew'>> {
  const userId = auth.user.id;
  const noAuthenticator = new CrewvaultError('NOT_FOUND', 'You have no authenticator on this server');
  if (await sealedRecoveryCodes(ctx.db, userId) === null) throw noAuthenticator;
  requireFreshProof(ctx.now(), auth, false);
  return ctx.db.transaction(async (tx) => {
    const row = await lockAuthenticator(tx, userId);
    if (row === undefined || !row.enabled) throw noAuthenticator;
    const recoveryCodes = await newRecoveryCodes(tx, ctx, userId);
    await appendAudit(tx, ctx, { kind: 'mfa.recovery-codes-renewed', actorId: userId, subjectId: userId, source });
    return { recoveryCodes };
  });
}
