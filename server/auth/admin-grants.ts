/**
 * Permissions beyond a role (issue #14, ClientTrack's "Remove 2-Step Verification Admin
 * Access"): an owner grants an admin `mfa_reset` (resetting others' second steps) or takes it
 * back. Owners hold every permission by their role and cannot be granted one; members take
 * none (an admin demoted to member would hold nothing, whatever row is left). Granting needs the
 * owner's own second step within the last five minutes (their password sign-in when they have
 * no authenticator), as a reset does; every change is audited.
 *
 * Must never: let anyone but an owner change a grant, count a grant for someone not an admin, or
 * let an act that gets someone past another's second step through without the permission.
 */
import type { AdminPermission, ServerRouteInput, ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { appendAudit } from '../audit';
import type { ServerContext } from '../context';
import { findUserById } from '../store/accounts';
import { deleteGrant, holdGrant, holdsGrant, insertGrant } from '../store/admin-grants';
import type { Queryable, Transaction } from '../store/db';
import { mfaStanding } from '../store/mfa';
import { requireFreshProof } from './second-step';
import type { Authenticated } from './sessions';

/** Whether `user` holds `permission`: every owner, an admin with a grant, never a member. */
export async function holdsPermission(db: Queryable, user: Authenticated['user'], permission: AdminPermission): Promise<boolean> {
  if (user.role === 'owner') return true;
  if (user.role !== 'admin') return false;
  return holdsGrant(db, user.id, permission);
}

/**
 * For every act that gets someone past another person's second step — a reset, an emergency
 * code, setting the e-mail or phone their codes go to: any one of them lets whoever knows that
 * person's password in without their authenticator, so each needs `mfa_reset` (not merely the
 * admin role) and the actor's own proof from the last five minutes. `what` names the act in
 * the refusal. Checked from the database at each call, never from the session.
 */
export async function requireSecondStepAuthority(ctx: ServerContext, auth: Authenticated, what: string): Promise<void> {
  if (!await holdsPermission(ctx.db, auth.user, 'mfa_reset')) throw withoutAuthority(what);
  const own = await mfaStanding(ctx.db, auth.user.id);
  requireFreshProof(ctx.now(), auth, !own.authenticator);
}

/**
 * The permission `requireSecondStepAuthority` checked, again in the transaction that does the
 * act, and held there (`holdGrant`): an owner taking it back either commits first, and the act is
 * refused, or waits for the act. Checked only before, an act already past that check still
 * completed after the take-back had committed. Owners hold it by their role, which no request
 * changes.
 */
export async function holdSecondStepAuthority(tx: Transaction, auth: Authenticated, what: string): Promise<void> {
  if (auth.user.role === 'owner') return;
  if (auth.user.role !== 'admin' || !await holdGrant(tx, auth.user.id, 'mfa_reset')) throw withoutAuthority(what);
}

/** The refusal when the actor lacks `mfa_reset`; `what` names the act. */
export function withoutAuthority(what: string): CrewvaultError {
  return new CrewvaultError('FORBIDDEN', `${what} needs its own permission: an owner grants it (crewvault team mfa grant)`);
}

export async function setGrant(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'adminGrantSet'>, source: string): Promise<ServerRouteOutput<'adminGrantSet'>> {
  if (auth.user.role !== 'owner') throw new CrewvaultError('FORBIDDEN', 'Only owners grant or take back an admin\'s permissions');
  const target = await findUserById(ctx.db, input.userId);
  if (target === undefined) throw new CrewvaultError('NOT_FOUND', 'No such user on this server');
  if (target.role === 'owner') throw new CrewvaultError('FORBIDDEN', 'An owner holds every permission by being an owner');
  if (target.role !== 'admin') throw new CrewvaultError('FORBIDDEN', 'Only an admin takes a permission: make them an admin first');
  const own = await mfaStanding(ctx.db, auth.user.id);
  requireFreshProof(ctx.now(), auth, !own.authenticator);
  return ctx.db.transaction(async (tx) => {
    const changed = input.granted
      ? await insertGrant(tx, { userId: target.id, permission: input.permission, grantedBy: auth.user.id, now: ctx.now() })
      : await deleteGrant(tx, target.id, input.permission);
    if (changed) {
      await appendAudit(tx, ctx, { kind: input.granted ? 'grant.given' : 'grant.revoked', actorId: auth.user.id, subjectId: target.id, source, detail: { permission: input.permission } });
    }
    return { userId: target.id, permission: input.permission, granted: input.granted, changed };
  });
}
