/**
 * Sign-in: OPAQUE's login in two requests. Start answers every name the same way (a real
 * record, or OPAQUE's fake one for a name nobody has) and keeps the server's half of the
 * exchange sealed in `login_attempts`; finish takes that attempt out (once: a replayed finish
 * finds nothing), checks the client's proof, and opens a session. Each reads the account under
 * a share lock, in one transaction with what it writes (the attempt; the session): a password
 * change that commits meanwhile either comes after it, and ends what it wrote, or before, and is
 * what it read. Read apart, a start answered from the old record wrote its attempt after the
 * change had ended every attempt, and the old password then signed in.
 *
 * Must never: say whether a name exists, in a reply, a status, or a log line.
 */
import type { ServerRouteInput, ServerRouteOutput, SessionTokens } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { recordAudit } from '../audit';
import { openState, sealState } from '../keys';
import { LOGIN_ATTEMPT_TTL_MS, type ServerContext } from '../context';
import { findUserSharing, type UserRow } from '../store/accounts';
import { findSessionByAccess } from '../store/sessions';
import { deleteExpired, insertLoginAttempt, takeLoginAttempt } from '../store/sessions';
import { deviceSignIn, sessionSecondStep } from './devices';
import { usernameKey } from './names';
import { finishLogin, startLogin } from './opaque';
import { openSession, publicUser } from './sessions';
import { admitSignIn, signInSucceeded } from './throttle';
import { hashToken, newId } from './tokens';

const WRONG = 'Wrong user name or password';

function attemptPurpose(attemptId: string): string {
  return `crewvault login attempt ${attemptId}`;
}

/** `source`: the client's address, for the throttle (throttle.ts). */
export async function loginStart(ctx: ServerContext, input: ServerRouteInput<'loginStart'>, source: string): Promise<ServerRouteOutput<'loginStart'>> {
  const now = ctx.now();
  await deleteExpired(ctx.db, now);
  const key = usernameKey(input.username);
  await admitSignIn(ctx, key, source);
  return ctx.db.transaction(async (tx) => {
    const user = await findUserSharing(tx, { key });
    // A name nobody has gets a fake record under an identifier stable for that name.
    const identifier = user?.id ?? `unknown-user:${key}`;
    const { serverLoginState, loginResponse } = startLogin(ctx.keys.opaqueSetup, identifier, user?.registrationRecord, input.startLoginRequest);
    const attemptId = newId();
    await insertLoginAttempt(tx, {
      id: attemptId, userId: user?.id ?? null, sealedState: sealState(ctx.keys, attemptPurpose(attemptId), serverLoginState), expiresAt: now + LOGIN_ATTEMPT_TTL_MS,
    });
    return { attemptId, loginResponse };
  });
}

export async function loginFinish(ctx: ServerContext, input: ServerRouteInput<'loginFinish'>, source: string): Promise<ServerRouteOutput<'loginFinish'>> {
  const now = ctx.now();
  // The attempt taken and the session opened in one transaction, under the account's share lock
  // (taken before the attempt's row, as a password change takes them): refusals are returned, not
  // thrown, so the attempt stays used up (a finish is accepted once).
  const outcome = await ctx.db.transaction(async (tx): Promise<{ readonly refused: CrewvaultError; readonly failed?: { readonly userId: string | null } } | { readonly user: UserRow; readonly tokens: SessionTokens }> => {
    // The account the attempt is for, in one statement for a real name and an unknown one alike (the time tells nothing).
    const locked = await findUserSharing(tx, { attemptId: input.attemptId });
    const attempt = await takeLoginAttempt(tx, input.attemptId, now);
    if (attempt === undefined) return { refused: new CrewvaultError('UNAUTHORIZED', 'This sign-in attempt is over (used, expired or unknown): start again') };
    const state = openState(ctx.keys, attemptPurpose(input.attemptId), attempt.sealedState);
    // A fake record's attempt runs the same check; it cannot succeed, but costs the same.
    const proven = state !== undefined && finishLogin(state, input.finishLoginRequest);
    if (!proven || attempt.userId === null) return { refused: new CrewvaultError('WRONG_PASSWORD', WRONG), failed: { userId: attempt.userId } };
    // Read through the attempt itself, the account is the attempt's: gone only if it was deleted meanwhile.
    if (locked === undefined) return { refused: new CrewvaultError('WRONG_PASSWORD', WRONG) };
    return { user: locked, tokens: await openSession(tx, now, locked, input.deviceId, input.deviceName ?? null) };
  });
  if ('refused' in outcome) {
    // A real client with a wrong password never gets here (it cannot finish): this is a forged
    // or replayed proof. No name is recorded, only whose record it was tried against.
    if (outcome.failed !== undefined) await recordAudit(ctx, { kind: 'sign-in.failed', subjectId: outcome.failed.userId, source });
    throw outcome.refused;
  }
  const { user, tokens } = outcome;
  await signInSucceeded(ctx, usernameKey(user.username), source);
  await recordAudit(ctx, { kind: 'sign-in.succeeded', actorId: user.id, subjectId: user.id, source, detail: { deviceId: input.deviceId } });
  const deviceToken = await deviceSignIn(ctx.db, user, input.deviceId, input.deviceToken, tokens.accessToken);
  const session = await findSessionByAccess(ctx.db, hashToken(tokens.accessToken));
  if (session === undefined) throw new CrewvaultError('UNAUTHORIZED', 'This sign-in ended as it began: start again');
  // A person with an authenticator (or made to set one up), or on a device never authorised, has a
  // password-only session until the second step (devices.ts).
  const secondStep = await sessionSecondStep(ctx.db, session, now);
  return { user: publicUser(user), tokens, secondStep, ...(deviceToken === undefined ? {} : { deviceToken }) };
}
