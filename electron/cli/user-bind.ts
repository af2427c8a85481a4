/**
 * `crewvault user bind NAME --account SERVER-USER`: an owner binds a vault user to a team server
 * account (#15, team join, docs/SYNC.md). The account's public key comes from the server, which
 * could hand over one of its own: the owner types the fingerprint the person read out from their
 * own screen (`crewvault login --invite` printed it), asked before the server's is shown, and a
 * key with another is refused (ACCOUNT_KEY_CHANGED, naming the server's only then) before anything
 * is written. Then the vault user is re-keyed to that key
 * (team.ts bindToAccountKey), the change synced, and the binding itself (the user record naming
 * the account) pushed and agreed here. The team-server client is loaded only when this runs.
 * Must never: bind a key whose fingerprint the owner did not confirm, or print a secret.
 */
import { CrewvaultError } from '../../shared/errors';
import { REPLICA_FORMAT, type ReplicaBatch } from '../../shared/sync/records';
import { publicKeyFingerprint } from '../team/account-keys';
import { printable } from '../team/printable';
import type { CliIo } from './io';
import { keptSession, load } from './login';
import { withSession, type VaultOptionValues } from './signin';
import { userIdOf } from './team-admin';

/** Hex digits only, lower case: "AB12 cd34", "ab12:cd34" and "ab12cd34" read the same. */
function normaliseFingerprint(text: string): string {
  return text.toLowerCase().replace(/[^0-9a-f]/g, '');
}

export async function bindUser(name: string, account: string, values: VaultOptionValues & { readonly fingerprint?: string | undefined; readonly server?: string | undefined }, io: CliIo): Promise<void> {
  const m = await load();
  const team = await keptSession(m, io, values.server);
  const { id } = await userIdOf(team, account);
  const found = await team.client.call('accountPublicKey', { userId: id });
  if (found.publicKey === null) throw new CrewvaultError('NOT_FOUND', `${printable(found.username, 64)} has not signed in since the server began keeping account keys: they sign in once with crewvault login`);
  const key = Buffer.from(found.publicKey, 'base64url');
  const fingerprint = publicKeyFingerprint(key);
  // Asked before the server's is shown (only on a mismatch): an owner shown it first would confirm what they see, not what was read out.
  const said = values.fingerprint ?? await io.readSecret(`The fingerprint ${printable(found.username, 64)} read to you from their screen: `);
  if (normaliseFingerprint(said) !== normaliseFingerprint(fingerprint)) {
    throw new CrewvaultError('ACCOUNT_KEY_CHANGED', `The key the server hands over for ${printable(found.username, 64)} is not the one they read to you (the server says ${fingerprint}): nothing was bound or written. Ask them to read it again from crewvault login; if it still differs, tell the server's administrator.`);
  }
  const { syncOnce } = await import('../team/sync');
  await withSession(values, io, async (session) => {
    await session.team.bindToAccountKey(name, key);
    // The re-key (new certified signing key, the wraps, the user record carrying them) goes first,
    // then the binding, which the server takes only from an owner.
    await syncOnce(team.client, session.replica);
    const record = await session.replica.accountRecord(name, id);
    const batch: ReplicaBatch = { format: REPLICA_FORMAT, vault: await session.replica.vaultId(), records: [record] };
    await team.client.call('syncPush', { batch });
    // Agreed here as stored (review round ten hole 2): this desktop's own binding, coming back in a
    // pull, is then no record from elsewhere crossing a change made here since.
    await session.replica.markSent({ batch, upToSeq: -1 });
  });
  io.out(`${name} is bound to ${printable(found.username, 64)}'s account and re-keyed to its key: they join with crewvault join.\n`);
}
