/**
 * An owner binding a vault user to a server account re-keys them to the account's key pair (#15,
 * team join step 2): a real server (server/main.ts startServer, PGlite, real HTTP on loopback),
 * the owner's desktop and their second desktop (a copy), the CLI's own code. The technician
 * registers (`crewvault login --invite`, which prints their key's fingerprint); the owner's
 * `crewvault user bind tech --account tech` with another fingerprint is ACCOUNT_KEY_CHANGED and
 * writes nothing; with theirs, tech's user record on the server names their account and carries
 * the directory key and a signing key seed that open with the account's private key alone, the
 * signing key certified by the owner and binding the account's public key; the owner's second
 * desktop takes the new public key in by the new-public-key rule. Must never: put a password in
 * a process argument (answers go on stdin).
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainDeviceStore } from '../../electron/devices';
import { newAccountKeys, rawPublicKey, type AccountKeys } from '../../electron/team/account-keys';
import { firstSync } from '../../electron/team/first-sync';
import { syncOnce } from '../../electron/team/sync';
import { openJoinMaterial } from '../../electron/team/join-material';
import { createJoinedVault } from '../../electron/vault/join-vault';
import { parseOwnerKey, type OwnerKey } from '../../electron/team/owner-anchor';
import { TeamClient } from '../../electron/team/client';
import { ServerProfiles, SessionKeeper } from '../../electron/team/profiles';
import { unwrapKey } from '../../electron/vault/crypto';
import { contexts, DIRECTORY_WRAP_ANCHORED } from '../../electron/vault/keys';
import { bindingBytes, signatureValid } from '../../electron/vault/signing';
import { wrapContext } from '../../electron/vault/signer-keys';
import type { VaultSession } from '../../electron/vault/service';
import { createVault, Vault } from '../../electron/vault/vault';
import { parseOtpUri } from '../../shared/otp';
import { startServer, type RunningServer } from '../../server/main';
import type { ReplicaRecord, SigningKeyRecord, UserRecord } from '../../shared/sync/records';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { copyAsNewDesktop } from '../support/replica';
import { runScripted, type CliOutcome } from '../support/scripted-cli';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';

const TECH = 'tech';
/** A TOTP key in tech's group (RFC 6238's SHA-1 test key, base32). */
const OTP_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const SERVER_PASSWORD = { alice: 'alice on the team server 1', tech: 'tech on the team server 22' } as const;
const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));

let keyring: PrivateKeyring;
let server: RunningServer;
let home: string;
let vault: string;
let ownerFile: string;
let secondFile: string;
let techSaid: string;
let pinned: OwnerKey;
const env = (who: 'alice' | 'alice2' | 'tech'): NodeJS.ProcessEnv => ({ CREWVAULT_CONFIG: path.join(home, `config-${who}`), CREWVAULT_KEYCHAIN_SERVICE: `crewvault-bind-${who}` });

async function cli(who: 'alice' | 'alice2' | 'tech', args: readonly string[], answers: readonly string[] = []): Promise<CliOutcome> {
  clock.advance(1_000);
  return runScripted(args, answers, clock, env(who));
}

async function onDesktop<T>(file: string, work: (s: VaultSession) => Promise<T>): Promise<T> {
  const session = await Vault.open(file, clock).signIn(OWNER, PASSWORD);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

function techPublicKeyIn(file: string): Buffer {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT public_key FROM users WHERE name = ?').get(TECH) as { public_key: Buffer }).public_key;
  } finally {
    db.close();
  }
}

/** Tech's account keys, as their own client opens them at a sign-in. */
async function techAccount(): Promise<{ client: TeamClient; keys: AccountKeys }> {
  const profile = new ServerProfiles(env('tech').CREWVAULT_CONFIG ?? '').get(server.url);
  if (!profile) throw new Error('tech is not signed in');
  const client = new TeamClient(new URL(server.url), profile.trust, profile.deviceId);
  const attempt = await client.login(TECH, SERVER_PASSWORD.tech);
  return { client, keys: await client.accountKeys(attempt.exportKey) };
}

async function pullAll(client: TeamClient): Promise<ReplicaRecord[]> {
  const records: ReplicaRecord[] = [];
  for (let since = 0; ;) {
    const page = await client.call('syncPull', { vault, since });
    records.push(...page.records.map((r) => r.record));
    if (!page.more) return records;
    since = page.upTo;
  }
}

beforeAll(async () => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-bind-'));
  const dataDir = path.join(home, 'server');
  server = await startServer({ dataDir, listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });
  ownerFile = path.join(home, 'owner.crewvault');
  secondFile = path.join(home, 'owner-second.crewvault');
  const session = await createVault(ownerFile, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
  await session.createUser(TECH, 'technician', 'a one-time password for tech', FAST_KDF);
  const field = await session.team.createGroup('Field');
  await session.team.grant(field.id, TECH, false, await session.team.groupRevision(field.id));
  const finance = await session.team.createGroup('Finance');
  await session.createEntries([{ customer: 'Acme', title: 'Switch', password: 's-1', groupId: field.id }, { customer: 'Acme', title: 'Router', groupId: field.id, otp: { params: parseOtpUri(`otpauth://totp/Acme:router?secret=${OTP_SECRET}&issuer=Acme`).params } },
    { customer: 'Acme', title: 'Bank', password: 'b-1', groupId: finance.id }]);
  vault = await session.replica.vaultId();
  await session.close();
  await copyAsNewDesktop(ownerFile, secondFile, clock);
  for (const file of [ownerFile, secondFile]) await onDesktop(file, (s) => s.replica.agreeAll());

  expect((await cli('alice', ['login', server.url, '--user', 'alice', '--invite-file', path.join(dataDir, 'owner-invite.txt')], [SERVER_PASSWORD.alice])).code).toBe('ok');
  expect((await cli('alice2', ['login', server.url, '--user', 'alice'], [SERVER_PASSWORD.alice])).code).toBe('ok');
  const moved = await cli('alice', ['sync', server.url, '--move', '--vault', ownerFile, '--user', OWNER], [PASSWORD]);
  expect(moved.code, moved.stderr).toBe('ok');
  pinned = parseOwnerKey(/your owner key is (\S+) \(fingerprint/.exec(moved.stderr)?.[1] ?? '');
  const profile = new ServerProfiles(env('alice').CREWVAULT_CONFIG ?? '').get(server.url);
  const tokens = await new SessionKeeper(keychainDeviceStore(env('alice').CREWVAULT_KEYCHAIN_SERVICE ?? '')).get(server.url, 'alice');
  if (!profile || !tokens) throw new Error('alice is not signed in');
  const alice = new TeamClient(new URL(server.url), profile.trust, profile.deviceId);
  alice.tokens = tokens;
  const invite = await alice.call('inviteCreate', { username: TECH, role: 'member' });
  const tech = await cli('tech', ['login', server.url, '--user', TECH, '--invite', '-'], [invite.invite, SERVER_PASSWORD.tech]);
  expect(tech.code, tech.stderr).toBe('ok');
  techSaid = /Your account's key fingerprint is ([0-9a-f ]{39}):/.exec(tech.stderr)?.[1] ?? '';
  expect(techSaid).not.toBe('');
}, 180_000);

afterAll(async () => {
  await server?.close();
  keyring?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('binding an account re-keys its vault user to the account\'s key pair', () => {
  it('refuses a key whose fingerprint is not the one the person read out, writing nothing', async () => {
    const before = techPublicKeyIn(ownerFile);
    const refused = await cli('alice', ['user', 'bind', TECH, '--account', TECH, '--fingerprint', '0000 1111 2222 3333 4444 5555 6666 7777', '--vault', ownerFile, '--as', OWNER], [PASSWORD]);
    expect(refused.code).toBe('ACCOUNT_KEY_CHANGED');
    expect(refused.stderr.trim().split('\n').filter((l) => l.startsWith('crewvault:'))).toHaveLength(1);
    expect(techPublicKeyIn(ownerFile).equals(before)).toBe(true);
    // Asked (no --fingerprint): the server's fingerprint is shown only now, in the refusal, after the owner typed theirs.
    const typed = await cli('alice', ['user', 'bind', TECH, '--account', TECH, '--vault', ownerFile, '--as', OWNER], ['0000 1111 2222 3333 4444 5555 6666 7777']);
    expect(typed.code).toBe('ACCOUNT_KEY_CHANGED');
    expect(typed.message).toContain(techSaid);
    expect(techPublicKeyIn(ownerFile).equals(before)).toBe(true);
  });

  it('re-keys them: their record opens with the account key alone, and the owner\'s other desktop takes it in', async () => {
    // The owner types what tech read out when asked; the server's fingerprint is never put in front of them first.
    const bound = await cli('alice', ['user', 'bind', TECH, '--account', TECH, '--vault', ownerFile, '--as', OWNER], [techSaid.toUpperCase(), PASSWORD]);
    expect(bound.code, bound.stderr).toBe('ok');
    expect(bound.stderr + bound.stdout).not.toContain(techSaid);
    const { client, keys } = await techAccount();
    const accountKey = rawPublicKey(keys);
    expect(techPublicKeyIn(ownerFile).equals(accountKey)).toBe(true);

    const records = await pullAll(client);
    const mine = records.filter((r): r is UserRecord => r.kind === 'user' && r.name === TECH).at(-1);
    const session = await client.call('session', undefined);
    expect(mine?.account).toBe(session.user.id);
    expect(mine?.publicKey).toBe(accountKey.toString('base64url'));
    if (!mine?.wrappedDirectoryKey || !mine.wrappedSigningKey) throw new Error('the record carries no wraps');
    const pair = { publicKey: accountKey, privateKey: keys.privateKey };
    const uid = Buffer.from(mine.id.replaceAll('-', ''), 'hex');
    const dir = Buffer.from(mine.wrappedDirectoryKey, 'base64url');
    expect(unwrapKey(pair, dir.subarray(4), contexts.directoryKey({ uid }, DIRECTORY_WRAP_ANCHORED, dir.readUInt32BE(0)))).toHaveLength(32);
    const seed = unwrapKey(pair, Buffer.from(mine.wrappedSigningKey, 'base64url'), wrapContext({ id: 0, uid }));
    // The seed's own public key (PKCS#8 of an Ed25519 seed): the signing key it is.
    const signing = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
    const signingPublic = Buffer.from(createPublicKey(signing).export({ format: 'jwk' }).x ?? '', 'base64url');
    const key = records.find((r): r is SigningKeyRecord => r.kind === 'signing_key' && r.publicKey === signingPublic.toString('base64url'));
    const ownerRecord = records.find((r): r is UserRecord => r.kind === 'user' && r.role === 'owner');
    expect(key?.user).toBe(mine.id);
    expect(key?.certifiedBy).toBe(ownerRecord?.signerKey);
    expect(key?.binding && signatureValid(signingPublic, bindingBytes(mine.id, accountKey), Buffer.from(key.binding, 'base64url'))).toBe(true);
    expect(key?.certificate).not.toBeNull();

    // The owner's other desktop: the new public key by the rule for an owner's reset made elsewhere.
    const second = await runScripted(['sync', server.url, '--vault', secondFile, '--user', OWNER], [PASSWORD], clock, env('alice2'));
    expect(second.code, second.stderr).toBe('ok');
    expect(techPublicKeyIn(secondFile).equals(accountKey)).toBe(true);
  });

  it('opens what a joining desktop needs with the handed-over owner key and the account key, and nothing else', async () => {
    const { client, keys } = await techAccount();
    const records = await pullAll(client);
    const account = (await client.call('session', undefined)).user.id;
    const material = openJoinMaterial(vault, records, pinned, account, keys);
    expect([material.owner.role, material.owner.name, material.me.name, material.me.role]).toEqual(['owner', OWNER, TECH, 'technician']);
    expect(material.signingKey.user).toBe(material.me.id);
    expect([material.directoryKey.length, material.signingSeed.length]).toEqual([32, 32]);

    const otherOwner = { id: pinned.id, publicKey: Buffer.from(pinned.publicKey).fill(7) };
    expect(() => openJoinMaterial(vault, records, otherOwner, account, keys)).toThrow(expect.objectContaining({ code: 'OWNER_KEY_CHANGED' }));
    // Another key pair than the one bound: tech's newest record names this account and another key (the bound one), so the
    // owner bound a key that is not this one's. (NOT_FOUND before 623cdbd: the owner's second desktop re-sent the record it had
    // only taken in, without its binding, so no record named the account.)
    expect(() => openJoinMaterial(vault, records, pinned, account, newAccountKeys())).toThrow(expect.objectContaining({ code: 'ACCOUNT_KEY_CHANGED' }));
    // A server handing over tech's record with a key of its own: the owner's signature over it no longer holds.
    const swapped = records.map((r) => (r.kind === 'user' && r.id === material.me.id ? { ...r, publicKey: rawPublicKey(newAccountKeys()).toString('base64url') } : r));
    expect(() => openJoinMaterial(vault, swapped, pinned, account, keys)).toThrow(expect.objectContaining({ code: 'OWNER_KEY_CHANGED' }));
    // A server raising tech's role in their record: its owner's signature no longer holds.
    const raised = records.map((r) => (r.kind === 'user' && r.id === material.me.id ? { ...r, role: 'admin' } : r));
    expect(() => openJoinMaterial(vault, raised, pinned, account, keys)).toThrow(expect.objectContaining({ code: 'OWNER_KEY_CHANGED' }));
  });

  it('makes a vault file from it that the first sync fills with what tech may see', async () => {
    const { client, keys } = await techAccount();
    const records = await pullAll(client);
    const account = (await client.call('session', undefined)).user.id;
    const m = openJoinMaterial(vault, records, pinned, account, keys);
    const file = path.join(home, 'tech.crewvault');
    const session = await createJoinedVault(file, {
      vaultId: vault, person: { uid: m.me.id, name: m.me.name, role: 'technician' }, keyPair: { publicKey: rawPublicKey(keys), privateKey: keys.privateKey },
      password: 'tech local password 333', kdf: FAST_KDF, clock, owner: { uid: m.owner.id, name: m.owner.name, publicKey: Buffer.from(m.owner.publicKey, 'base64url') },
      ownerKey: { uid: pinned.id, publicKey: pinned.publicKey },
      signingKey: { uid: m.signingKey.id, publicKey: Buffer.from(m.signingKey.publicKey, 'base64url'), createdAt: m.signingKey.createdAt, certificate: Buffer.from(m.signingKey.certificate ?? '', 'base64url'), binding: Buffer.from(m.signingKey.binding ?? '', 'base64url') },
      signingSeed: m.signingSeed, directoryKey: m.directoryKey, directoryVersion: m.directoryVersion,
    });
    try {
      const first = await firstSync(client, session.replica);
      expect(first?.applied).toBeGreaterThan(0);
      // Set aside: only audit events naming the Finance entry tech was never handed (docs/SYNC.md
      // "Events of groups one does not hold"), with that device's events after them.
      const db = new Database(file, { readonly: true });
      const held = db.prepare('SELECT body FROM replica_held').all() as Array<{ body: string }>;
      db.close();
      expect(held.length).toBe(first?.held);
      expect(held.every((h) => (JSON.parse(h.body) as { kind: string }).kind === 'event')).toBe(true);
    } finally {
      await session.close();
    }
    const again = await Vault.open(file, clock).signIn(TECH, 'tech local password 333');
    try {
      const listed = await again.listEntries();
      expect(listed.map((e) => e.title).sort()).toEqual(['Router', 'Switch']);
      expect(await again.revealPassword((await again.resolvePath('Acme/Switch')).id)).toBe('s-1');
    } finally {
      await again.close();
    }
    // A later edit on the owner's desktop reaches tech's at their next sync.
    await onDesktop(ownerFile, async (s) => {
      const entry = await s.resolvePath('Acme/Switch');
      await s.updateEntry(entry.id, { password: 's-2' }, entry.revision ?? -1);
    });
    expect((await cli('alice', ['sync', server.url, '--vault', ownerFile, '--user', OWNER], [PASSWORD])).code).toBe('ok');
    const later = await Vault.open(file, clock).signIn(TECH, 'tech local password 333');
    try {
      await syncOnce(client, later.replica);
      const entry = await later.resolvePath('Acme/Switch');
      expect(await later.revealPassword(entry.id)).toBe('s-2');
    } finally {
      await later.close();
    }
  });

  it('crewvault join: a fresh computer gets tech\'s vault from the server and the handed-over owner key alone', async () => {
    const fresh = { CREWVAULT_CONFIG: path.join(home, 'config-tech-fresh'), CREWVAULT_KEYCHAIN_SERVICE: 'crewvault-bind-tech-fresh' };
    const file = path.join(home, 'tech-joined.crewvault');
    const join = (ownerText: string): Promise<CliOutcome> => runScripted(
      ['join', server.url, '--user', TECH, '--team-vault', vault, '--trust-owner', ownerText, '--vault', file], [SERVER_PASSWORD.tech, 'tech local password 444'], clock, fresh,
    );
    const other = `${pinned.id}:${Buffer.from(pinned.publicKey).fill(9).toString('base64url')}`;
    const refused = await join(other);
    expect(refused.code).toBe('OWNER_KEY_CHANGED');
    expect(existsSync(file)).toBe(false);
    const joined = await join(`${pinned.id}:${pinned.publicKey.toString('base64url')}`);
    expect(joined.code, joined.stderr).toBe('ok');
    expect(joined.stderr).toMatch(/records taken in/);
    const listed = await runScripted(['list', '--vault', file, '--user', TECH], ['tech local password 444'], clock, fresh);
    expect(listed.code, listed.stderr).toBe('ok');
    expect(listed.stdout).toContain('Switch');
    expect(listed.stdout).not.toContain('Bank');
    // Offline-usable: the code of tech's TOTP entry is oathtool's (another implementation, the key on stdin).
    const code = await runScripted(['otp', '--vault', file, '--user', TECH, 'Acme/Router'], ['tech local password 444'], clock, fresh);
    expect(code.code, code.stderr).toBe('ok');
    const at = new Date(clock.now()).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
    expect(code.stdout.trim()).toBe(execFileSync('oathtool', ['--totp', '-b', '--now', at, '-'], { input: OTP_SECRET, encoding: 'utf8' }).trim());
    expect((await runScripted(['join', server.url, '--user', TECH, '--team-vault', vault, '--trust-owner', other, '--vault', file], [], clock, fresh)).code).toBe('ALREADY_EXISTS');
  });
});
