/**
 * Registration and invites. Nobody registers without an invite: an owner or admin makes one
 * for a name and a role, and the server makes one for the first owner while it has no
 * accounts (written to its data folder by server/main.ts). Registration is OPAQUE's: the
 * server keeps the record the client made and never sees the password.
 *
 * Must never: accept an invite twice, or store anything of the password but the record.
 */
import type { ServerRouteInput, ServerRouteOutput, ServerUser } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { appendAudit, recordAudit } from '../audit';
import { INVITE_TTL_MS, type ServerContext } from '../context';
import { sqlState } from '../store/db';
import { countUsers, deleteServerInvites, findInvite, insertInvite, insertUser, nameIsTaken, takeInvite, type InviteRow } from '../store/accounts';
import { usernameKey } from './names';
import { checkRegistrationRecord, registrationResponse } from './opaque';
import { hashToken, newId, newToken } from './tokens';
import type { Authenticated } from './sessions';

const INVALID_INVITE = 'This invite is not valid: it is wrong, used, expired or for another name';

function inviteFits(invite: InviteRow | undefined, key: string): invite is InviteRow {
  return invite !== undefined && (invite.usernameKey === null || invite.usernameKey === key);
}

export async function registerStart(ctx: ServerContext, input: ServerRouteInput<'registerStart'>): Promise<ServerRouteOutput<'registerStart'>> {
  const key = usernameKey(input.username);
  const invite = await findInvite(ctx.db, hashToken(input.invite), ctx.now());
  if (!inviteFits(invite, key)) throw new CrewvaultError('FORBIDDEN', INVALID_INVITE);
  if (invite.usernameKey === null && await nameIsTaken(ctx.db, key, ctx.now())) {
    throw new CrewvaultError('ALREADY_EXISTS', 'That user name is taken: choose another');
  }
  return { registrationResponse: registrationResponse(ctx.keys.opaqueSetup, invite.userId, input.registrationRequest) };
}

export async function registerFinish(ctx: ServerContext, input: ServerRouteInput<'registerFinish'>): Promise<ServerRouteOutput<'registerFinish'>> {
  const key = usernameKey(input.username);
  const now = ctx.now();
  try {
    return await ctx.db.transaction(async (tx) => {
      const invite = await takeInvite(tx, hashToken(input.invite), now);
      if (!inviteFits(invite, key)) throw new CrewvaultError('FORBIDDEN', INVALID_INVITE);
      checkRegistrationRecord(ctx.keys.opaqueSetup, invite.userId, input.registrationRecord);
      await insertUser(tx, { id: invite.userId, username: input.username.trim().normalize('NFC'), usernameKey: key, role: invite.role, registrationRecord: input.registrationRecord, sealedKeys: input.sealedKeys, now });
      const user: ServerUser = { id: invite.userId, username: input.username.trim().normalize('NFC'), role: invite.role };
      await appendAudit(tx, ctx, { kind: 'account.registered', subjectId: user.id, detail: { role: user.role } });
      return { user };
    });
  } catch (error) {
    // The name was taken between start and finish; the transaction kept the invite.
    if (sqlState(error) === '23505') throw new CrewvaultError('ALREADY_EXISTS', 'That user name is taken: choose another');
    throw error;
  }
}

/** Owners invite admins and members; admins invite members (only owners make admins). */
export async function createInvite(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'inviteCreate'>): Promise<ServerRouteOutput<'inviteCreate'>> {
  const allowed = auth.user.role === 'owner' || (auth.user.role === 'admin' && input.role === 'member');
  if (!allowed) throw new CrewvaultError('FORBIDDEN', auth.user.role === 'admin' ? 'Only owners invite admins' : 'Only owners and admins invite people');
  const key = usernameKey(input.username);
  const now = ctx.now();
  if (await nameIsTaken(ctx.db, key, now)) throw new CrewvaultError('ALREADY_EXISTS', 'That user name is taken or already invited');
  const invite = newToken('cvi');
  const userId = newId();
  const expiresAt = now + INVITE_TTL_MS;
  try {
    await insertInvite(ctx.db, { codeHash: hashToken(invite), userId, usernameKey: key, role: input.role, createdBy: auth.user.id, expiresAt });
  } catch (error) {
    if (sqlState(error) === '23505') throw new CrewvaultError('ALREADY_EXISTS', 'That user name is taken or already invited');
    throw error;
  }
  await recordAudit(ctx, { kind: 'invite.created', actorId: auth.user.id, subjectId: userId, detail: { role: input.role } });
  return { invite, userId, expiresAt };
}

/**
 * While the server has no account, a fresh invite for its first owner (any name), replacing
 * the one from an earlier start; once someone has registered, none. The caller hands the
 * code to whoever runs the server (a file only they can read), never to a log.
 */
export async function firstOwnerInvite(ctx: ServerContext): Promise<{ invite: string; expiresAt: number } | undefined> {
  return ctx.db.transaction(async (tx) => {
    await deleteServerInvites(tx);
    if (await countUsers(tx) > 0) return undefined;
    const invite = newToken('cvi');
    const expiresAt = ctx.now() + INVITE_TTL_MS;
    await insertInvite(tx, { codeHash: hashToken(invite), userId: newId(), usernameKey: null, role: 'owner', createdBy: null, expiresAt });
    return { invite, expiresAt };
  });
}
