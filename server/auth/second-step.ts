/**
 * The second sign-in step's common rules, whatever stands in for it (an authenticator code,
 * a recovery code, an emergency code): where a session stands (`secondStepOf`), the refusal
 * of data to a session that has not done it (app.ts), and the one check-and-use transaction
 * every kind of code goes through: the account's and the address's waits first, then the
 * check; a wrong one is counted for the account (five in a row, then waits doubling,
 * throttle.ts), for the source address (past the sign-in throttle's per-address limit within
 * an hour) and for the session, which ends at the fifth (back to the password); a right one
 * marks the session's second step done and forgets the account's wrong ones. Each is audited (`mfa.*`), never with the code.
 */
import type { MfaPolicyLevel, SecondStep } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { appendAudit, type AuditKind } from '../audit';
import type { ServerContext } from '../context';
import type { Transaction } from '../store/db';
import { clearMfaFailures, countMfaFailure, holdSecondSteps, mfaBlockedUntil, setMfaBlockedUntil } from '../store/mfa';
import { countWrongCode, deleteSession, sessionStands, setSecondStepDone } from '../store/sessions';
import { blockedUntil, countAttempt, creditAttempt, setBlockedUntil } from '../store/throttle';
import type { Authenticated } from './sessions';
import { THROTTLE_WINDOW_MS, waitAfter } from './throttle';
import { signInTurns } from './turns';

/** Wrong codes that end a session, and after which (in a row, per account) waiting begins. */
export const WRONG_CODES_PER_ATTEMPT = 5;

/** How recent a second step (or, for someone without an authenticator, the password) must be for acts that change MFA. */
export const FRESH_PROOF_MS = 5 * 60_000;

/**
 * Throws unless this session did its second step within FRESH_PROOF_MS; someone without an
 * authenticator (`passwordCounts`) may show a password sign-in that recent instead.
 */
export function requireFreshProof(now: number, auth: Authenticated, passwordCounts: boolean): void {
  const { secondStepAt, authenticatedAt } = auth.session;
  if (secondStepAt !== null && now - secondStepAt <= FRESH_PROOF_MS) return;
  if (passwordCounts && now - authenticatedAt <= FRESH_PROOF_MS) return;
  if (passwordCounts) throw new CrewvaultError('UNAUTHORIZED', 'Sign in again with your password first (or enter a code): this needs a sign-in from the last 5 minutes');
  throw new CrewvaultError('MFA_REQUIRED', 'Enter a code from your authenticator again first: this needs a second step from the last 5 minutes');
}

/** Where a session stands, from when its second step was done, the person's authenticator and the policy. */
export function secondStepOf(secondStepAt: number | null, standing: { readonly authenticator: boolean; readonly policy: MfaPolicyLevel }): SecondStep {
  if (secondStepAt !== null || standing.policy === 'off') return 'done';
  if (standing.authenticator) return 'code';
  return standing.policy === 'required' ? 'enrol' : 'done';
}

/**
 * The MFA_REQUIRED a session gets while its second step is still to do (undefined once it is done):
 * for every `session` route (requireSecondStep) and for the codes batch, which judges a presented
 * session itself (server/codes/batch.ts).
 */
export function secondStepRefusal(secondStep: SecondStep): CrewvaultError | undefined {
  if (secondStep === 'code') return new CrewvaultError('MFA_REQUIRED', 'Enter the code from your authenticator app first');
  if (secondStep === 'enrol') return new CrewvaultError('MFA_REQUIRED', 'This server requires two-step sign-in: set up an authenticator app first');
  if (secondStep === 'device') return new CrewvaultError('MFA_REQUIRED', 'This device is new: enter the code e-mailed to you first');
  return undefined;
}

/** Throws MFA_REQUIRED unless the session may have data (app.ts, for every `session` route). */
export function requireSecondStep(auth: Authenticated): void {
  const refusal = secondStepRefusal(auth.secondStep);
  if (refusal !== undefined) throw refusal;
}

function wrongCode(): CrewvaultError {
  return new CrewvaultError('WRONG_CODE', 'That code is not right (or was already used)');
}

/**
 * What a check-and-use transaction decides: its value, or the refusal to throw once it has
 * committed (a wrong code's count must be kept, and a throw inside would roll it back).
 */
export type Outcome<T> = { readonly value: T } | { readonly error: CrewvaultError };

function settled<T>(outcome: Outcome<T>): T {
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

/** The address's count of wrong second steps, beside (not mixed with) its count of sign-in starts. */
function addressKey(source: string): string {
  return `second step ${source}`;
}

async function waiting(tx: Transaction, ctx: ServerContext, userId: string, source: string): Promise<CrewvaultError | undefined> {
  const now = ctx.now();
  const account = await mfaBlockedUntil(tx, userId);
  if (account > now) return new CrewvaultError('TOO_MANY_ATTEMPTS', `Too many wrong codes: try again in ${Math.ceil((account - now) / 1000)} s`);
  const address = await blockedUntil(tx, 'address', addressKey(source));
  if (address > now) return new CrewvaultError('TOO_MANY_ATTEMPTS', `Too many wrong codes from this address: try again in ${Math.ceil((address - now) / 1000)} s`);
  return undefined;
}

/**
 * A wrong second step, inside the transaction that checked it: counted for the account (and
 * its wait set) and for the session, which ends at the fifth. The refusal to throw after commit.
 */
export async function wrongSecondStep(tx: Transaction, ctx: ServerContext, auth: Authenticated, kind: AuditKind, source: string): Promise<CrewvaultError> {
  const userId = auth.user.id;
  const now = ctx.now();
  const wait = waitAfter(await countMfaFailure(tx, userId), WRONG_CODES_PER_ATTEMPT);
  if (wait > 0) await setMfaBlockedUntil(tx, userId, now + wait);
  // One address trying codes for many accounts (each under its own limit) waits too.
  const addressWait = waitAfter(await countAttempt(tx, 'address', addressKey(source), now, now - THROTTLE_WINDOW_MS), ctx.throttle.perAddress);
  if (addressWait > 0) await setBlockedUntil(tx, 'address', addressKey(source), now + addressWait);
  if (await countWrongCode(tx, auth.session.id) >= WRONG_CODES_PER_ATTEMPT) {
    await deleteSession(tx, auth.session.id);
    await appendAudit(tx, ctx, { kind: 'mfa.attempt-ended', actorId: userId, subjectId: userId, source, detail: { via: kind } });
    return new CrewvaultError('UNAUTHORIZED', 'Too many wrong codes: this sign-in is over. Sign in again with your password');
  }
  await appendAudit(tx, ctx, { kind, actorId: userId, subjectId: userId, source, detail: { ok: false } });
  return wrongCode();
}

/** The second step done in this session: the account's wrong codes are forgotten. */
export async function secondStepDone(tx: Transaction, ctx: ServerContext, auth: Authenticated, kind: AuditKind, source: string): Promise<void> {
  await setSecondStepDone(tx, auth.session.id, ctx.now());
  await clearMfaFailures(tx, auth.user.id);
  // The address gets back the one try it spent; its wrong ones stay counted (throttle.ts).
  await creditAttempt(tx, 'address', addressKey(source));
  await appendAudit(tx, ctx, { kind, actorId: auth.user.id, subjectId: auth.user.id, source, detail: { ok: true } });
}

/**
 * A check-and-use in one transaction: `check` returns the value when the second step is
 * right, or `wrong` when it is not (counted); the account's wait is checked first. Second steps
 * of one account (and of one address) are held one at a time (holdSecondSteps), the session
 * read again under that hold: codes sent together were each checked against the wait, the count
 * and the session as they stood before any of them, so a burst was as many guesses as the
 * pool had connections, and a right code among them after the fifth wrong one still counted.
 */
export async function checkSecondStep<T>(ctx: ServerContext, auth: Authenticated, kind: AuditKind, source: string,
  check: (tx: Transaction) => Promise<Outcome<T> | 'wrong'>): Promise<T> {
  const atOnce = (): CrewvaultError => new CrewvaultError('TOO_MANY_ATTEMPTS', 'Too many codes at once: try again in a minute');
  // Queued in this process first (turns.ts): a burst waits in memory, not on the pool's connections.
  return settled(await signInTurns(ctx).run([`second step of ${auth.user.id}`, `second step from ${source}`], atOnce, () => ctx.db.transaction(async (tx): Promise<Outcome<T>> => {
    await holdSecondSteps(tx, auth.user.id, addressKey(source));
    if (!await sessionStands(tx, auth.session.id)) return { error: new CrewvaultError('UNAUTHORIZED', 'This sign-in has ended: sign in again with your password') };
    const refused = await waiting(tx, ctx, auth.user.id, source);
    if (refused !== undefined) return { error: refused };
    const outcome = await check(tx);
    if (outcome === 'wrong') return { error: await wrongSecondStep(tx, ctx, auth, kind, source) };
    if ('value' in outcome) await secondStepDone(tx, ctx, auth, kind, source);
    return outcome;
  })));
}
