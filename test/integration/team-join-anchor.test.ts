/**
 * The trust anchor of a desktop joining a team vault from the server alone (#15,
 * electron/team/owner-anchor.ts): a real server (server/main.ts startServer, real HTTP on
 * loopback) on a private PostgreSQL, the owner's vault file moved with the real CLI code
 * (`crewvault sync --move`, which prints the owner's key to hand over), a technician's server
 * account by the owner's invite. What the technician's fresh desktop pulls names the owner under
 * the key the owner handed over; another key pinned, and a server whose stored owner record was
 * replaced in its database by one signed with a key of its own, are refused with OWNER_KEY_CHANGED. Must never: put a password in a process argument (answers go on stdin).
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainDeviceStore } from '../../electron/devices';
import { TeamClient } from '../../electron/team/client';
import { anchorOwner, parseOwnerKey, type OwnerKey } from '../../electron/team/owner-anchor';
import { ServerProfiles, SessionKeeper } from '../../electron/team/profiles';
import { createVault, Vault } from '../../electron/vault/vault';
import { startServer, type RunningServer } from '../../server/main';
import { recordSigningText, REPLICA_FORMAT, type ReplicaRecord, type Unsigned, type UserRecord } from '../../shared/sync/records';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { startTestPostgres, type TestPostgres } from '../support/postgres';
import { runScripted, type CliOutcome } from '../support/scripted-cli';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';

const TECH = 'tech';
const SERVER_PASSWORD = { alice: 'alice on the team server 1', tech: 'tech on the team server 22' } as const;
const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));

let keyring: PrivateKeyring;
let cluster: TestPostgres;
let databaseUrl: string;
let server: RunningServer;
let home: string;
let vault: string;
let pinned: OwnerKey;
const env = (who: 'alice' | 'tech'): NodeJS.ProcessEnv => ({ CREWVAULT_CONFIG: path.join(home, `config-${who}`), CREWVAULT_KEYCHAIN_SERVICE: `crewvault-anchor-${who}` });

async function cli(who: 'alice' | 'tech', args: readonly string[], answers: readonly string[]): Promise<CliOutcome> {
  const out = await runScripted(args, answers, clock, env(who));
  expect(out.code, `${who}: crewvault ${args[0] ?? ''}: ${out.stderr}`).toBe('ok');
  return out;
}

async function teamClient(who: 'alice' | 'tech'): Promise<TeamClient> {
  const profile = new ServerProfiles(env(who).CREWVAULT_CONFIG ?? '').get(server.url);
  const tokens = await new SessionKeeper(keychainDeviceStore(env(who).CREWVAULT_KEYCHAIN_SERVICE ?? '')).get(server.url, who);
  if (!profile || !tokens) throw new Error(`${who} is not signed in`);
  const client = new TeamClient(new URL(server.url), profile.trust, profile.deviceId);
  client.tokens = tokens;
  return client;
}

/** Everything the technician's account is handed, every page, as a fresh desktop's first pull. */
async function pullAll(): Promise<ReplicaRecord[]> {
  const client = await teamClient('tech');
  const records: ReplicaRecord[] = [];
  for (let since = 0; ;) {
    const page = await client.call('syncPull', { vault, since });
    records.push(...page.records.map((r) => r.record));
    if (!page.more) return records;
    since = page.upTo;
  }
}

async function onDatabase<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-anchor-'));
  cluster = await startTestPostgres();
  databaseUrl = await cluster.createDatabase();
  const dataDir = path.join(home, 'server');
  server = await startServer({ dataDir, database: databaseUrl, listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });

  const file = path.join(home, 'owner.crewvault');
  const session = await createVault(file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
  await session.createUser(TECH, 'technician', 'a one-time password for tech', FAST_KDF);
  await session.createEntries([{ customer: 'Acme', title: 'Switch', password: 's-1' }]);
  vault = await session.replica.vaultId();
  await session.close();

  await cli('alice', ['login', server.url, '--user', 'alice', '--invite-file', path.join(dataDir, 'owner-invite.txt')], [SERVER_PASSWORD.alice]);
  const moved = await cli('alice', ['sync', server.url, '--move', '--vault', file, '--user', OWNER], [PASSWORD]);
  // What the owner hands over with the invite, read from what the move told them.
  pinned = parseOwnerKey(/your owner key is (\S+) \(fingerprint/.exec(moved.stderr)?.[1] ?? '');
  const invite = await (await teamClient('alice')).call('inviteCreate', { username: 'tech', role: 'member' });
  await cli('tech', ['login', server.url, '--user', 'tech', '--invite', '-'], [invite.invite, SERVER_PASSWORD.tech]);
  const binding = await Vault.open(file, clock).signIn(OWNER, PASSWORD).then(async (s) => {
    try {
      return await s.replica.accountRecord(TECH, invite.userId);
    } finally {
      await s.close();
    }
  });
  await (await teamClient('alice')).call('syncPush', { batch: { format: REPLICA_FORMAT, vault, records: [binding] } });
}, 180_000);

afterAll(async () => {
  await server?.close();
  await cluster?.stop();
  keyring?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('a desktop joining from the server alone trusts only the owner it was told of', () => {
  it('finds the owner by the key the owner handed over, and refuses another key', async () => {
    const records = await pullAll();
    const owner = anchorOwner(vault, records, pinned);
    expect([owner.name, owner.role]).toEqual([OWNER, 'owner']);
    const other = { id: pinned.id, publicKey: Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x ?? '', 'base64url') };
    expect(() => anchorOwner(vault, records, other)).toThrow(expect.objectContaining({ code: 'OWNER_KEY_CHANGED' }));
  });

  it('refuses a server whose stored owner record was replaced by one signed with another key', async () => {
    const before = anchorOwner(vault, await pullAll(), pinned);
    // The server's database: the owner's user record signed again with a key of the server's own
    // making, under another key id, so the record holds together under that key.
    const forged = generateKeyPairSync('ed25519');
    const unsigned: Unsigned<UserRecord> = { ...withoutSignature(before), signerKey: '01a22bae-0000-7000-8000-000000000001' };
    const resigned: UserRecord = { ...unsigned, signature: sign(null, Buffer.from(recordSigningText(vault, unsigned), 'utf8'), forged.privateKey).toString('base64url') };
    const changed = await onDatabase(async (db) => (await db.query('UPDATE sync_records SET body = $3::jsonb WHERE vault_id = $1 AND record_id = $2', [vault, before.id, JSON.stringify(resigned)])).rowCount);
    expect(changed).toBe(1);
    const records = await pullAll();
    expect(records.some((r) => r.kind === 'user' && r.id === before.id && r.signerKey === unsigned.signerKey)).toBe(true);
    const refused = refusal(() => anchorOwner(vault, records, pinned));
    expect(refused).toMatchObject({ code: 'OWNER_KEY_CHANGED' });
    expect(refused?.message).toMatch(/is not vouched for by the owner key you trust/);
    expect(refused?.message.split('\n')).toHaveLength(1);
  });
});

function withoutSignature(record: UserRecord): Unsigned<UserRecord> {
  const { signature, ...unsigned } = record;
  expect(signature).not.toBe('');
  return unsigned;
}

function refusal(work: () => unknown): Error | undefined {
  try {
    work();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
