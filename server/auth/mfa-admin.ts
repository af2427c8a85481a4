/**
 * MFA administration (issue #14, ClientTrack): owners and admins see who has which second
 * steps (authenticator, e-mail, SMS, recovery codes left, trusted devices) and reset someone's
 * (their authenticator, recovery and emergency codes and the trust of their devices go, their
 * sessions end, so their next sign-in starts from the password and sets one up again where the
 * policy asks). Resetting is its own permission (ClientTrack's "Remove 2-Step Verification
 * Admin Access"): every owner holds it, an admin only while an owner grants it (`mfa_reset`,
 * admin-grants.ts). Owners reset admins and members, admins with the grant members only; nobody
 * resets an owner's or their own (admins never act on owners; one's own is turned off in
 * mfa.ts). A reset needs
 * the actor's own second step within the last five minutes, or their password sign-in that
 * recent when they have no authenticator. Every reset is audited.
 *
 * Must never: show a code, a key, an address or a phone number; reset without fresh proof.
 */
import { SERVER_ROLES, type ServerRole, type ServerRouteInput, type ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { appendAudit } from '../audit';
import type { ServerContext } from '../context';
import { canSendEmail, smsSettings } from '../settings/delivery';
import { findUserById } from '../store/accounts';
import { forgetTrustedDevices } from '../store/devices';
import { deleteSecondSteps, secondStepsOfEveryone } from '../store/mfa';
import { externalUserIds, readMfaPolicy, strictest } from '../store/mfa-policy';
import { deleteUserSessions } from '../store/sessions';
import { grantees } from '../store/admin-grants';
import { holdSecondStepAuthority, holdsPermission, requireSecondStepAuthority, withoutAuthority } from './admin-grants';
import type { Authenticated } from './sessions';

function roleOf(value: string): ServerRole {
  const role = SERVER_ROLES.find((known) => known === value);
  if (role === undefined) throw new CrewvaultError('INTERNAL', 'unknown role in users');
  return role;
}

/** Why `actor` may not reset `target`'s second steps, or undefined. */
function whyNotReset(actor: Authenticated['user'], target: { readonly id: string; readonly role: ServerRole }): string | undefined {
  if (actor.id === target.id) return 'Turn your own authenticator off instead of resetting it';
  if (target.role === 'owner') return 'An owner\'s two-step sign-in is never reset by someone else';
  if (target.role === 'admin' && actor.role !== 'owner') return 'Only an owner resets an admin\'s two-step sign-in';
  return undefined;
}

export async function listSecondSteps(ctx: ServerContext, auth: Authenticated): Promise<ServerRouteOutput<'adminMfaList'>> {
  if (auth.user.role === 'member') throw new CrewvaultError('FORBIDDEN', 'Only owners and admins see who has two-step sign-in');
  const email = await canSendEmail(ctx.db);
  const sms = await smsSettings(ctx) !== undefined;
  const external = await externalUserIds(ctx.db);
  const granted = await grantees(ctx.db, 'mfa_reset');
  const policy = await readMfaPolicy(ctx.db);
  const users = (await secondStepsOfEveryone(ctx.db, ctx.now())).map((row) => ({ ...row, role: roleOf(row.role) }))
    // Admins never act on owners, and do not look over them either.
    .filter((row) => auth.user.role === 'owner' || row.role !== 'owner')
    .map((row) => ({
      userId: row.userId, username: row.username, role: row.role, external: external.has(row.userId),
      policy: strictest([policy.policy, policy.roles[row.role], external.has(row.userId) ? policy.external : null]),
      authenticator: row.authenticator, email: email && row.email, sms: sms && row.phone,
      recoveryCodesLeft: row.recoveryCodesLeft, trustedDevices: row.trustedDevices,
      mfaReset: row.role === 'owner' || (row.role === 'admin' && granted.has(row.userId)),
    }));
  return { users };
}

const RESETTING = 'Resetting someone\'s two-step sign-in';

export async function resetSecondSteps(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'adminMfaReset'>, source: string): Promise<ServerRouteOutput<'adminMfaReset'>> {
  if (auth.user.role === 'member') throw new CrewvaultError('FORBIDDEN', 'Only owners and admins reset someone\'s two-step sign-in');
  if (!await holdsPermission(ctx.db, auth.user, 'mfa_reset')) throw withoutAuthority(RESETTING);
  const target = await findUserById(ctx.db, input.userId);
  if (target === undefined) throw new CrewvaultError('NOT_FOUND', 'No such user on this server');
  const why = whyNotReset(auth.user, target);
  if (why !== undefined) throw new CrewvaultError('FORBIDDEN', why);
  await requireSecondStepAuthority(ctx, auth, RESETTING);
  return ctx.db.transaction(async (tx) => {
    await holdSecondStepAuthority(tx, auth, RESETTING);
    const authenticator = await deleteSecondSteps(tx, target.id);
    const trustedDevices = await forgetTrustedDevices(tx, target.id, ctx.now());
    const endedSessions = await deleteUserSessions(tx, target.id, null);
    await appendAudit(tx, ctx, { kind: 'mfa.reset', actorId: auth.user.id, subjectId: target.id, source, detail: { authenticator, trustedDevices, endedSessions } });
    return { authenticator, trustedDevices, endedSessions };
  });
}
