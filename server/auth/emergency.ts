/**
 * Emergency codes (finPOWER's): for someone who lost their authenticator and their recovery
 * codes, an owner or admin issues six letters, good once for two minutes, read to them over
 * the phone. A code gets its holder past the person's authenticator, so issuing one needs what
 * a reset needs (`mfa_reset` and the issuer's own fresh proof, admin-grants.ts). Owners issue
 * them for admins and members, admins for members; nobody for an
 * owner, nor for themselves (admins never act on owners; one person is never both sides).
 * Issuing and using are both in the server's audit.
 *
 * Must never: log or audit the code; keep it unhashed.
 */
import { randomInt } from 'node:crypto';
import type { ServerRouteInput, ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { appendAudit } from '../audit';
import type { ServerContext } from '../context';
import { keyedHash } from '../keys';
import { findUserById } from '../store/accounts';
import { putEmergencyCode, takeEmergencyCode } from '../store/mfa';
import { holdSecondStepAuthority, requireSecondStepAuthority } from './admin-grants';
import { checkSecondStep } from './second-step';
import type { Authenticated } from './sessions';

export const EMERGENCY_CODE_MS = 2 * 60_000;
const EMERGENCY_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ';

function codeHash(ctx: ServerContext, userId: string, code: string): string {
  return keyedHash(ctx.keys, `emergency ${userId}`, code.replace(/\s/g, '').toUpperCase());
}

/** Why `actor` may not issue one for `target`, or undefined. */
function whyNotIssue(actor: Authenticated['user'], target: { readonly id: string; readonly role: string }): string | undefined {
  if (actor.role === 'member') return 'Only owners and admins issue emergency codes';
  if (actor.id === target.id) return 'You cannot issue an emergency code for yourself';
  if (target.role === 'owner') return 'Emergency codes are never issued for an owner';
  if (target.role === 'admin' && actor.role !== 'owner') return 'Only an owner issues an emergency code for an admin';
  return undefined;
}

const ISSUING = 'Issuing someone an emergency code';

export async function issueEmergencyCode(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'mfaEmergencyIssue'>, source: string): Promise<ServerRouteOutput<'mfaEmergencyIssue'>> {
  // A member may issue none: refused before the id is looked up, so no account learns which user ids exist (review 13a hole 4).
  if (auth.user.role === 'member') throw new CrewvaultError('FORBIDDEN', 'Only owners and admins issue emergency codes');
  const target = await findUserById(ctx.db, input.userId);
  if (target === undefined) throw new CrewvaultError('NOT_FOUND', 'No such user on this server');
  const why = whyNotIssue(auth.user, target);
  if (why !== undefined) throw new CrewvaultError('FORBIDDEN', why);
  // A code stands in for the person's authenticator: as strong as a reset, so the same permission.
  await requireSecondStepAuthority(ctx, auth, ISSUING);
  let code = '';
  for (let i = 0; i < 6; i += 1) code += EMERGENCY_ALPHABET[randomInt(EMERGENCY_ALPHABET.length)];
  const expiresAt = ctx.now() + EMERGENCY_CODE_MS;
  await ctx.db.transaction(async (tx) => {
    await holdSecondStepAuthority(tx, auth, ISSUING);
    await putEmergencyCode(tx, target.id, codeHash(ctx, target.id, code), auth.user.id, expiresAt);
    await appendAudit(tx, ctx, { kind: 'mfa.emergency-issued', actorId: auth.user.id, subjectId: target.id, source, detail: { expiresAt } });
  });
  return { code, expiresAt };
}

/** The second step with an emergency code: once, within two minutes; a wrong one counts like a wrong code. */
export async function useEmergencyCode(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'mfaEmergency'>, source: string): Promise<ServerRouteOutput<'mfaEmergency'>> {
  return checkSecondStep<ServerRouteOutput<'mfaEmergency'>>(ctx, auth, 'mfa.emergency', source, async (tx) => {
    const taken = await takeEmergencyCode(tx, auth.user.id, codeHash(ctx, auth.user.id, input.code), ctx.now());
    if (taken === undefined) return 'wrong';
    if (!taken.live) return { error: new CrewvaultError('WRONG_CODE', 'That emergency code has expired: ask your administrator for a new one') };
    return { value: { secondStep: 'done' as const } };
  });
}
