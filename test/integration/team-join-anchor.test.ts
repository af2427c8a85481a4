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
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TeamClient } from '../../electron/team/client';
import { anchorOwner, type OwnerKey } from '../../electron/team/owner-anchor';
import { startServer, type RunningServer } from '../../server/main';
import { recordSigningText, type ReplicaRecord, type Unsigned, type UserRecord } from '../../shared/sync/records';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { onDatabaseAt, startTestPostgres, type TestPostgres } from '../support/postgres';
import { runScripted, type CliOutcome } from '../support/scripted-cli';
import { signedInTeamClient, techJoinsMovedVault } from '../support/team-join';
import { manualClock, OWNER } from '../support/vault';

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

const teamClient = (who: 'alice' | 'tech'): Promise<TeamClient> => signedInTeamClient(server.url, who, env(who));

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

function onDatabase<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  return onDatabaseAt(databaseUrl, work);
}

beforeAll(async () => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-anchor-'));
  cluster = await startTestPostgres();
  databaseUrl = await cluster.createDatabase();
  const dataDir = path.join(home, 'server');
  server = await startServer({ dataDir, database: databaseUrl, listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });

  ({ vault, pinned } = await techJoinsMovedVault({ serverUrl: server.url, dataDir, home, clock, tech: TECH, serverPassword: SERVER_PASSWORD, cli, teamClient }));
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
