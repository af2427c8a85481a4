/**
 * `crewvault join` end to end as people run it (#15, team join step 4): a `crewvault server`
 * process on a private PostgreSQL, and every person's step a `crewvault` process of the built CLI
 * (bin/crewvault.mjs) with a HOME of its own: the owner signs in, moves their vault (printing the
 * owner key to hand over) and binds tech after comparing fingerprints; tech registers, then joins
 * on a fresh HOME and sees exactly the group they were granted; the owner's later edit reaches
 * tech at their next sync. A server that substitutes the account's public key (its database
 * edited) is refused at the bind, and one that substitutes the owner's record at the join, each
 * with a stable one-line code and nothing written. Must never: put a password in a process
 * argument (answers go on stdin), or leave a process running.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVault, Vault } from '../../electron/vault/vault';
import { parseOtpUri } from '../../shared/otp';
import { recordSigningText, type ReplicaRecord, type Unsigned, type UserRecord } from '../../shared/sync/records';
import { crewvaultStreamed, type StreamedCliResult } from '../support/cli-stream';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { onDatabaseAt, startTestPostgres, type TestPostgres } from '../support/postgres';
import { freePort, ServerProcesses, splitDatabaseUrl, type ServerProcess } from '../support/server-process';
import { signedInTeamClient } from '../support/team-join';
import { FAST_KDF, OWNER, PASSWORD } from '../support/vault';

const TECH = 'tech';
const OTP_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const SERVER_PASSWORD = { alice: 'alice on the team server 1', tech: 'tech on the team server 22' } as const;
const LOCAL = 'tech local password 555';
const processes = new ServerProcesses();

let keyring: PrivateKeyring;
let cluster: TestPostgres;
let databaseUrl: string;
let server: ServerProcess;
let home: string;
let ownerFile: string;
let vault = '';
let ownerKeyText = '';
let techSaid = '';

const envOf = (who: string): NodeJS.ProcessEnv => ({ ...keyring.env, CREWVAULT_CONFIG: path.join(home, `config-${who}`), CREWVAULT_KEYCHAIN_SERVICE: `crewvault-joinp-${who}` });

async function run(who: string, args: readonly string[], answers: readonly string[] = []): Promise<StreamedCliResult> {
  return crewvaultStreamed(args, { input: answers.map((a) => `${a}\n`), env: envOf(who), timeoutMs: 120_000 });
}

function ok(result: StreamedCliResult, what: string): StreamedCliResult {
  expect(result.status, `${what}: ${result.stderr}`).toBe(0);
  return result;
}

function onDatabase<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  return onDatabaseAt(databaseUrl, work);
}

beforeAll(async () => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-joinp-'));
  cluster = await startTestPostgres();
  databaseUrl = await cluster.createDatabase();
  const dataDir = path.join(home, 'server');
  server = await processes.start({ ...splitDatabaseUrl(databaseUrl), dataDir, port: await freePort() });

  ownerFile = path.join(home, 'owner.crewvault');
  const session = await createVault(ownerFile, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF });
  await session.createUser(TECH, 'technician', 'a one-time password for tech', FAST_KDF);
  const field = await session.team.createGroup('Field');
  const finance = await session.team.createGroup('Finance');
  await session.team.grant(field.id, TECH, false, await session.team.groupRevision(field.id));
  await session.createEntries([
    { customer: 'Acme', title: 'Switch', password: 's-1', groupId: field.id },
    { customer: 'Acme', title: 'Router', groupId: field.id, otp: { params: parseOtpUri(`otpauth://totp/Acme:router?secret=${OTP_SECRET}&issuer=Acme`).params } },
    { customer: 'Acme', title: 'Bank', password: 'b-1', groupId: finance.id },
  ]);
  await session.close();

  ok(await run('alice', ['login', server.url, '--user', 'alice', '--invite-file', path.join(dataDir, 'owner-invite.txt')], [SERVER_PASSWORD.alice]), 'owner login');
  const moved = ok(await run('alice', ['sync', server.url, '--move', '--vault', ownerFile, '--user', OWNER], [PASSWORD]), 'move');
  const told = /Vault ([0-9a-f]{32}): your owner key is (\S+) \(fingerprint/.exec(moved.stderr);
  vault = told?.[1] ?? '';
  ownerKeyText = told?.[2] ?? '';
  expect(ownerKeyText).not.toBe('');

  const alice = await signedInTeamClient(server.url, 'alice', envOf('alice'));
  const invite = await alice.call('inviteCreate', { username: TECH, role: 'member' });
  const registered = ok(await run('tech', ['login', server.url, '--user', TECH, '--invite', '-'], [invite.invite, SERVER_PASSWORD.tech]), 'tech login --invite');
  techSaid = /Your account's key fingerprint is ([0-9a-f ]{39}):/.exec(registered.stderr)?.[1] ?? '';
  expect(techSaid).not.toBe('');
}, 240_000);

afterAll(async () => {
  await processes.killAll();
  await cluster?.stop();
  keyring?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('crewvault join, every step a process of its own', () => {
  it('refuses a server that substitutes the account key at the bind, then binds, and tech joins on a fresh HOME', async () => {
    const held = await onDatabase(async (db) => (await db.query('SELECT public_key FROM users WHERE username = $1', [TECH])).rows[0] as { public_key: string });
    const forged = generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x ?? '';
    await onDatabase((db) => db.query('UPDATE users SET public_key = $2 WHERE username = $1', [TECH, forged]));
    const before = readFileSync(ownerFile);
    const refused = await run('alice', ['user', 'bind', TECH, '--account', TECH, '--fingerprint', techSaid, '--vault', ownerFile, '--as', OWNER], [PASSWORD]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^crewvault: ACCOUNT_KEY_CHANGED: [^\n]+\n$/);
    expect(readFileSync(ownerFile).equals(before)).toBe(true);
    await onDatabase((db) => db.query('UPDATE users SET public_key = $2 WHERE username = $1', [TECH, held.public_key]));
    ok(await run('alice', ['user', 'bind', TECH, '--account', TECH, '--fingerprint', techSaid, '--vault', ownerFile, '--as', OWNER], [PASSWORD]), 'bind');

    const techFile = path.join(home, 'tech.crewvault');
    const joined = ok(await run('tech-fresh', ['join', server.url, '--user', TECH, '--team-vault', vault, '--trust-owner', ownerKeyText, '--vault', techFile], [SERVER_PASSWORD.tech, LOCAL]), 'join');
    expect(joined.stderr).toMatch(/records taken in/);
    const listed = ok(await run('tech-fresh', ['list', '--vault', techFile, '--user', TECH], [LOCAL]), 'list');
    expect(listed.stdout).toContain('Switch');
    expect(listed.stdout).toContain('Router');
    expect(listed.stdout).not.toContain('Bank');
    const at = Math.floor(Date.UTC(2026, 10, 30, 12, 0, 0) / 1000);
    const code = ok(await run('tech-fresh', ['otp', '--vault', techFile, '--user', TECH, 'Acme/Router', '--at', String(at)], [LOCAL]), 'otp');
    const oath = execFileSync('oathtool', ['--totp', '-b', '--now', new Date(at * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'), '-'], { input: OTP_SECRET, encoding: 'utf8' }).trim();
    expect(code.stdout.trim()).toBe(oath);

    // The owner's later edit reaches tech at their next sync.
    const owner = await Vault.open(ownerFile).signIn(OWNER, PASSWORD);
    try {
      const entry = await owner.resolvePath('Acme/Switch');
      await owner.updateEntry(entry.id, { password: 's-2' }, entry.revision ?? -1);
    } finally {
      await owner.close();
    }
    ok(await run('alice', ['sync', server.url, '--vault', ownerFile, '--user', OWNER], [PASSWORD]), 'owner sync');
    ok(await run('tech-fresh', ['sync', server.url, '--vault', techFile, '--user', TECH], [LOCAL]), 'tech sync');
    const tech = await Vault.open(techFile).signIn(TECH, LOCAL);
    try {
      expect(await tech.revealPassword((await tech.resolvePath('Acme/Switch')).id)).toBe('s-2');
    } finally {
      await tech.close();
    }
  }, 240_000);

  it('refuses a server that substitutes the owner\'s record, writing no file', async () => {
    const ownerRecord = await onDatabase(async (db) => (await db.query("SELECT body FROM sync_records WHERE vault_id = $1 AND kind = 'user' AND body->>'role' = 'owner'", [vault])).rows[0] as { body: UserRecord | string });
    const record = (typeof ownerRecord.body === 'string' ? JSON.parse(ownerRecord.body) : ownerRecord.body) as UserRecord;
    const forged = generateKeyPairSync('ed25519');
    const { signature, ...unsigned } = record;
    expect(signature).not.toBe('');
    const resigned: Unsigned<UserRecord> = { ...unsigned, signerKey: '01a22bae-0000-7000-8000-000000000001' };
    const body: ReplicaRecord = { ...resigned, signature: sign(null, Buffer.from(recordSigningText(vault, resigned), 'utf8'), forged.privateKey).toString('base64url') };
    await onDatabase((db) => db.query('UPDATE sync_records SET body = $3::jsonb WHERE vault_id = $1 AND record_id = $2', [vault, record.id, JSON.stringify(body)]));
    const techFile = path.join(home, 'tech-again.crewvault');
    const refused = await run('tech-third', ['join', server.url, '--user', TECH, '--team-vault', vault, '--trust-owner', ownerKeyText, '--vault', techFile], [SERVER_PASSWORD.tech, LOCAL]);
    expect(refused.status).toBe(1);
    expect(refused.stderr.split('\n').filter((l) => l.startsWith('crewvault: '))).toEqual([expect.stringMatching(/^crewvault: OWNER_KEY_CHANGED: /)]);
    expect(existsSync(techFile)).toBe(false);
  }, 120_000);
});
