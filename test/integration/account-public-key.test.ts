/**
 * An account's public key for the owner who binds it (#15, team join step 1): a real server
 * (server/main.ts startServer, real HTTP on loopback) on a private PostgreSQL, the CLI's own code.
 * The technician's `crewvault login --invite` prints the fingerprint of the key their computer
 * made; the owner's `crewvault team key tech` prints the fingerprint of what the server hands
 * them, and the two agree. A member reads nobody's key; a second, other key for the account is
 * refused (the first stays), so a stolen session cannot swap its own in. Must never: put a
 * password in a process argument (answers go on stdin).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicKeyFingerprint, rawPublicKey } from '../../electron/team/account-keys';
import type { TeamClient } from '../../electron/team/client';
import { startServer, type RunningServer } from '../../server/main';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { startTestPostgres, type TestPostgres } from '../support/postgres';
import { runScripted, type CliOutcome } from '../support/scripted-cli';
import { signedInTeamClient } from '../support/team-join';
import { manualClock } from '../support/vault';

const SERVER_PASSWORD = { alice: 'alice on the team server 1', tech: 'tech on the team server 22' } as const;
const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));

let keyring: PrivateKeyring;
let cluster: TestPostgres;
let server: RunningServer;
let home: string;
let techSaid: string;
const env = (who: 'alice' | 'tech'): NodeJS.ProcessEnv => ({ CREWVAULT_CONFIG: path.join(home, `config-${who}`), CREWVAULT_KEYCHAIN_SERVICE: `crewvault-pubkey-${who}` });

async function cli(who: 'alice' | 'tech', args: readonly string[], answers: readonly string[] = []): Promise<CliOutcome> {
  return runScripted(args, answers, clock, env(who));
}

const teamClient = (who: 'alice' | 'tech'): Promise<TeamClient> => signedInTeamClient(server.url, who, env(who));

beforeAll(async () => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-pubkey-'));
  cluster = await startTestPostgres();
  const dataDir = path.join(home, 'server');
  server = await startServer({ dataDir, database: await cluster.createDatabase(), listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });
  expect((await cli('alice', ['login', server.url, '--user', 'alice', '--invite-file', path.join(dataDir, 'owner-invite.txt')], [SERVER_PASSWORD.alice])).code).toBe('ok');
  const invite = await (await teamClient('alice')).call('inviteCreate', { username: 'tech', role: 'member' });
  const tech = await cli('tech', ['login', server.url, '--user', 'tech', '--invite', '-'], [invite.invite, SERVER_PASSWORD.tech]);
  expect(tech.code, tech.stderr).toBe('ok');
  techSaid = /Your account's key fingerprint is ([0-9a-f]{4}(?: [0-9a-f]{4}){7}):/.exec(tech.stderr)?.[1] ?? '';
}, 120_000);

afterAll(async () => {
  await server?.close();
  await cluster?.stop();
  keyring?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('an account\'s public key reaches the owner who binds it, compared by fingerprint', () => {
  it('prints the same fingerprint on the joining person\'s screen and the owner\'s', async () => {
    expect(techSaid).not.toBe('');
    const owner = await cli('alice', ['team', 'key', 'tech']);
    expect(owner.code, owner.stderr).toBe('ok');
    expect(owner.stdout).toBe(`tech's account key fingerprint: ${techSaid}\n`);
    // A later sign-in publishes the same key again: nothing changes.
    expect((await cli('tech', ['login', server.url, '--user', 'tech'], [SERVER_PASSWORD.tech])).code).toBe('ok');
    expect((await cli('alice', ['team', 'key', 'tech', '--json'])).stdout).toContain(`"fingerprint":"${techSaid}"`);
  });

  it('refuses a member reading keys, and a second key for an account', async () => {
    const member = await cli('tech', ['team', 'key', 'alice']);
    expect(member.code).toBe('FORBIDDEN');
    const alice = await (await teamClient('alice')).call('session', undefined);
    await expect((await teamClient('tech')).call('accountPublicKey', { userId: alice.user.id })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const other = generateKeyPairSync('x25519');
    const swapped = rawPublicKey({ publicKey: other.publicKey.export({ format: 'der', type: 'spki' }), privateKey: other.privateKey });
    await expect((await teamClient('tech')).call('accountPublicKeyPublish', { publicKey: swapped.toString('base64url') })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(publicKeyFingerprint(swapped)).not.toBe(techSaid);
    expect((await cli('alice', ['team', 'key', 'tech'])).stdout).toContain(techSaid);
  });
});
