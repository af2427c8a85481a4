/**
 * Accounts' public keys (#15, team join): each person's client publishes the X25519 public key of
 * the key material it opened at sign-in; owners and admins read an account's to bind a vault user
 * to it (their desktop re-keys the user to it). The server cannot tell a true key from one it made
 * itself, and need not: the person's screen shows the fingerprint (crewvault login --invite), the
 * owner's shows the one the server handed over, and the two are compared apart from the server.
 * Must never: replace a published key (a stolen session could otherwise swap in its own), or hand
 * keys to members.
 */
import type { ServerRouteInput, ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { findPublicKey, publishPublicKey } from '../store/accounts';
import type { ServerContext } from '../context';
import type { Authenticated } from './sessions';

export async function publishOwnPublicKey(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'accountPublicKeyPublish'>): Promise<ServerRouteOutput<'accountPublicKeyPublish'>> {
  if (!await publishPublicKey(ctx.db, auth.user.id, input.publicKey)) {
    throw new CrewvaultError('CONFLICT', 'This account already published another public key: the key material this sign-in opened is not the one it published first. Tell the server\'s administrator.');
  }
  return { publicKey: input.publicKey };
}

/** Owners and admins (who invite people and bind them to vault users) read any account's key; admins not an owner's. */
export async function someonesPublicKey(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'accountPublicKey'>): Promise<ServerRouteOutput<'accountPublicKey'>> {
  if (auth.user.role !== 'owner' && auth.user.role !== 'admin') throw new CrewvaultError('FORBIDDEN', 'Only owners and admins read others\' public keys');
  const found = await findPublicKey(ctx.db, input.userId);
  // Admins do not see owners (as in the MFA list): to them an owner is as unknown as nobody.
  if (found === undefined || (auth.user.role === 'admin' && found.role === 'owner')) throw new CrewvaultError('NOT_FOUND', 'No such account');
  return { userId: input.userId, username: found.username, publicKey: found.publicKey };
}
