// Shared set-up of the join tests (team-join-anchor, join-safety-net, account-public-key, #15): a
// desktop's signed-in TeamClient as the CLI left it (profile and keychain), and an owner's vault
// moved to a real server with the real CLI, a technician invited, logged in and bound to their
// vault user. Test support only; must never put a password in a process argument (answers go on
// stdin) or print one.
import path from 'node:path';
import { keychainDeviceStore } from '../../electron/devices';
import { TeamClient } from '../../electron/team/client';
import { parseOwnerKey, type OwnerKey } from '../../electron/team/owner-anchor';
import { ServerProfiles, SessionKeeper } from '../../electron/team/profiles';
import { createVault, Vault } from '../../electron/vault/vault';
import { REPLICA_FORMAT } from '../../shared/sync/records';
import type { CliOutcome } from './scripted-cli';
import type { Clock } from '../../electron/vault/service';
import { FAST_KDF, OWNER, PASSWORD } from './vault';

/** The TeamClient of `who`'s desktop on `serverUrl`, as the CLI under `env` signed it in. */
export async function signedInTeamClient(serverUrl: string, who: string, env: NodeJS.ProcessEnv): Promise<TeamClient> {
  const profile = new ServerProfiles(env.CREWVAULT_CONFIG ?? '').get(serverUrl);
  const tokens = await new SessionKeeper(keychainDeviceStore(env.CREWVAULT_KEYCHAIN_SERVICE ?? '')).get(serverUrl, who);
  if (!profile || !tokens) throw new Error(`${who} is not signed in`);
  const client = new TeamClient(new URL(serverUrl), profile.trust, profile.deviceId);
  client.tokens = tokens;
  return client;
}

type Who = 'alice' | 'tech';

/**
 * alice makes a vault in `home` (owner OWNER, technician `tech`, one entry), logs in to the server
 * with its owner invite file, moves the vault there, invites tech, who logs in; the owner's desktop
 * then pushes tech's account record. Returns the vault id and the owner key the move printed (what
 * the owner hands over with the invite).
 */
export async function techJoinsMovedVault(o: {
  readonly serverUrl: string;
  readonly dataDir: string;
  readonly home: string;
  readonly clock: Clock;
  readonly tech: string;
  readonly serverPassword: { readonly alice: string; readonly tech: string };
  readonly cli: (who: Who, args: readonly string[], answers: readonly string[]) => Promise<CliOutcome>;
  readonly teamClient: (who: Who) => Promise<TeamClient>;
}): Promise<{ vault: string; pinned: OwnerKey }> {
  const file = path.join(o.home, 'owner.crewvault');
  const session = await createVault(file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock: o.clock });
  await session.createUser(o.tech, 'technician', 'a one-time password for tech', FAST_KDF);
  await session.createEntries([{ customer: 'Acme', title: 'Switch', password: 's-1' }]);
  const vault = await session.replica.vaultId();
  await session.close();

  await o.cli('alice', ['login', o.serverUrl, '--user', 'alice', '--invite-file', path.join(o.dataDir, 'owner-invite.txt')], [o.serverPassword.alice]);
  const moved = await o.cli('alice', ['sync', o.serverUrl, '--move', '--vault', file, '--user', OWNER], [PASSWORD]);
  // What the owner hands over with the invite, read from what the move told them.
  const pinned = parseOwnerKey(/your owner key is (\S+) \(fingerprint/.exec(moved.stderr)?.[1] ?? '');
  const invite = await (await o.teamClient('alice')).call('inviteCreate', { username: 'tech', role: 'member' });
  await o.cli('tech', ['login', o.serverUrl, '--user', 'tech', '--invite', '-'], [invite.invite, o.serverPassword.tech]);
  const binding = await Vault.open(file, o.clock).signIn(OWNER, PASSWORD).then(async (s) => {
    try {
      return await s.replica.accountRecord(o.tech, invite.userId);
    } finally {
      await s.close();
    }
  });
  await (await o.teamClient('alice')).call('syncPush', { batch: { format: REPLICA_FORMAT, vault, records: [binding] } });
  return { vault, pinned };
}
