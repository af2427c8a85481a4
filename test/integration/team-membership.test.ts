/**
 * Membership enforced by the team server with real desktops (#15): a real server (PGlite, real
 * HTTP on loopback), vault files synced with the real `crewvault` CLI code, logins kept in a
 * private Secret Service, and a second server account for a second person. The owner's desktop
 * moves the vault, binding the technician's server account to their vault user; then revokes
 * them from a group (which rotates its key and re-seals its entries). What must hold: the
 * revoked member's next pull brings nothing new of that group, their push into it is refused
 * (FORBIDDEN) and stores nothing, and a push still sealed under the group's old key version
 * (another desktop of the owner's that had not synced since) is refused (CONFLICT). Each
 * assertion fails with the server's check removed (docs/SYNC.md). Then what the desktops take in
 * (electron/vault/replica-people-in.ts): the owner's other desktop takes the rotation in and writes
 * in the group again (no file copy), the revoked desktop drops the group and says so, a re-grant
 * and a first grant (carol) reach their desktops with every entry; two rotations at once (the
 * owner's two desktops each revoking someone before syncing): the one the server refused gives way,
 * rotates again past the other, and its unsent edit arrives. Must never: put a password in
 * a process argument (answers go on the scripted stdin).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainDeviceStore } from '../../electron/devices';
import { TeamClient } from '../../electron/team/client';
import { ServerProfiles, SessionKeeper } from '../../electron/team/profiles';
import { groupUidIn } from '../support/team-desktops';
import type { VaultSession } from '../../electron/vault/service';
import { createVault, Vault } from '../../electron/vault/vault';
import { startServer, type RunningServer } from '../../server/main';
import { REPLICA_FORMAT } from '../../shared/sync/records';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { copyAsNewDesktop } from '../support/replica';
import { runScripted, type CliOutcome } from '../support/scripted-cli';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';

const BOB = 'bob';
const BOB_PASSWORD = 'bob keeps the switches running';
const CAROL = 'carol';
const CAROL_PASSWORD = 'carol joins the network team';
const SERVER_PASSWORD = { alice: 'alice on the team server 1', bob: 'bob on the team server 22', carol: 'carol on the team server 333' } as const;
/** Each person's vault user and password. */
const VAULT_LOGIN = { alice: [OWNER, PASSWORD], bob: [BOB, BOB_PASSWORD], carol: [CAROL, CAROL_PASSWORD] } as const;
const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));

interface Desktop {
  readonly name: string;
  readonly file: string;
  readonly person: 'alice' | 'bob' | 'carol';
  readonly keychain: string;
  readonly env: NodeJS.ProcessEnv;
}

let keyring: PrivateKeyring;
let server: RunningServer;
let home: string;
/** The owner's desktop, the owner's second desktop (a copy that stays behind), the technicians'. */
let a: Desktop;
let a2: Desktop;
let b: Desktop;
let c: Desktop;
let opsId: number;
let opsUid: string;

function desktop(name: string, person: 'alice' | 'bob' | 'carol'): Desktop {
  const keychain = `crewvault-membership-${name}`;
  return { name, person, keychain, file: path.join(home, `desktop-${name}.crewvault`), env: { CREWVAULT_CONFIG: path.join(home, `config-${name}`), CREWVAULT_KEYCHAIN_SERVICE: keychain } };
}

async function onDesktop<T>(d: Desktop, work: (session: VaultSession) => Promise<T>): Promise<T> {
  const [user, password] = VAULT_LOGIN[d.person];
  const session = await Vault.open(d.file, clock).signIn(user, password);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

async function cli(d: Desktop, args: readonly string[], answers: readonly string[]): Promise<CliOutcome> {
  const out = await runScripted(args, answers, clock, d.env);
  expect(out.code, `${d.name}: crewvault ${args[0] ?? ''}: ${out.stderr}`).toBe('ok');
  return out;
}

/** `crewvault sync --json` on a desktop as its person: the outcome, which may be an error. */
async function sync(d: Desktop, ...flags: string[]): Promise<CliOutcome> {
  clock.advance(1_000);
  const [vaultUser, password] = VAULT_LOGIN[d.person];
  return runScripted(['sync', server.url, '--json', '--vault', d.file, '--user', vaultUser, ...flags], [password], clock, d.env);
}

async function teamClient(d: Desktop): Promise<TeamClient> {
  const profile = new ServerProfiles(d.env.CREWVAULT_CONFIG ?? '').get(server.url);
  const tokens = await new SessionKeeper(keychainDeviceStore(d.keychain)).get(server.url, d.person);
  if (!profile || !tokens) throw new Error(`${d.name} is not signed in`);
  const client = new TeamClient(new URL(server.url), profile.trust, profile.deviceId);
  client.tokens = tokens;
  return client;
}

async function passwordOf(d: Desktop, entryPath: string): Promise<string> {
  return onDesktop(d, async (s) => s.revealPassword((await s.resolvePath(entryPath)).id));
}

async function setPassword(d: Desktop, entryPath: string, password: string): Promise<void> {
  clock.advance(1_000);
  await onDesktop(d, async (s) => {
    const entry = await s.resolvePath(entryPath);
    await s.updateEntry(entry.id, { password }, entry.revision ?? -1);
  });
}

beforeAll(async () => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-membership-'));
  const dataDir = path.join(home, 'server');
  server = await startServer({ dataDir, listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });
  [a, a2, b, c] = [desktop('a', 'alice'), desktop('a2', 'alice'), desktop('b', 'bob'), desktop('c', 'carol')];

  // The owner's vault: bob a technician, in the group Ops (which holds two entries) and the default group.
  const session = await createVault(a.file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
  await session.createUser(BOB, 'technician', 'a one-time password for bob', FAST_KDF);
  // Carol is in the default group only, until the owner grants her Ops (the last test).
  await session.createUser(CAROL, 'technician', 'a one-time password for carol', FAST_KDF);
  const ops = await session.team.createGroup('Ops');
  opsId = ops.id;
  await session.team.grant(ops.id, BOB, false, await session.team.groupRevision(ops.id));
  await session.createEntries([
    { customer: 'Acme', title: 'Switch', password: 's-1', groupId: ops.id },
    { customer: 'Acme', title: 'Firewall', password: 'f-1', groupId: ops.id },
    { customer: 'Acme', title: 'Printer', password: 'p-1' },
  ]);
  await session.close();
  const first = await Vault.open(a.file, clock).signIn(BOB, 'a one-time password for bob');
  await first.changePassword('a one-time password for bob', BOB_PASSWORD, FAST_KDF);
  await first.close();
  const carolFirst = await Vault.open(a.file, clock).signIn(CAROL, 'a one-time password for carol');
  await carolFirst.changePassword('a one-time password for carol', CAROL_PASSWORD, FAST_KDF);
  await carolFirst.close();
  opsUid = groupUidIn(a.file, opsId);
  for (const copy of [a2, b, c]) await copyAsNewDesktop(a.file, copy.file, clock);
  for (const d of [a, a2, b, c]) await onDesktop(d, (s) => s.replica.agreeAll());

  // Two accounts on the server: the owner's (the server's first), and bob's by the owner's invite.
  await cli(a, ['login', server.url, '--user', 'alice', '--invite-file', path.join(dataDir, 'owner-invite.txt')], [SERVER_PASSWORD.alice]);
  await cli(a2, ['login', server.url, '--user', 'alice'], [SERVER_PASSWORD.alice]);
  const invite = await (await teamClient(a)).call('inviteCreate', { username: 'bob', role: 'member' });
  await cli(b, ['login', server.url, '--user', 'bob', '--invite', '-'], [invite.invite, SERVER_PASSWORD.bob]);
  const carolInvite = await (await teamClient(a)).call('inviteCreate', { username: 'carol', role: 'member' });
  await cli(c, ['login', server.url, '--user', 'carol', '--invite', '-'], [carolInvite.invite, SERVER_PASSWORD.carol]);

  // The owner moves the vault (its people, groups and members with it) and says which account is bob.
  expect((await sync(a, '--move')).code).toBe('ok');
  const binding = await onDesktop(a, (s) => s.replica.accountRecord(BOB, invite.userId));
  const carolBinding = await onDesktop(a, (s) => s.replica.accountRecord(CAROL, carolInvite.userId));
  const vault = await onDesktop(a, (s) => s.replica.vaultId());
  await (await teamClient(a)).call('syncPush', { batch: { format: REPLICA_FORMAT, vault, records: [binding, carolBinding] } });
  for (const d of [a2, b, c]) expect((await sync(d)).code, d.name).toBe('ok');
}, 180_000);

afterAll(async () => {
  await server?.close();
  keyring?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('membership on the team server, with real desktops', () => {
  it('hands a member the group\'s entries, and takes their edits in it', async () => {
    const pulled = await (await teamClient(b)).call('syncPull', { vault: await onDesktop(b, (s) => s.replica.vaultId()), since: 0 });
    expect(pulled.records.filter((r) => r.record.kind === 'entry' && r.record.group === opsUid)).toHaveLength(2);
    await setPassword(b, 'Acme/Switch', 's-bob');
    expect((await sync(b)).code).toBe('ok');
    expect((await sync(a)).code).toBe('ok');
    expect(await passwordOf(a, 'Acme/Switch')).toBe('s-bob');
  });

  it('cuts a revoked member off: their next pull brings nothing new of the group, their push into it and a push under the old key version are refused', async () => {
    await onDesktop(a, async (s) => s.team.revoke(opsId, BOB, await s.team.memberRevision(opsId, BOB)));
    await setPassword(a, 'Acme/Firewall', 'f-2');
    expect((await sync(a)).code).toBe('ok');
    const vault = await onDesktop(a, (s) => s.replica.vaultId());

    // Bob's next pull: nothing of Ops (its entries re-sealed at the new key version, and the new password).
    const bobSees = await (await teamClient(b)).call('syncPull', { vault, since: 0 });
    expect(bobSees.records.filter((r) => r.record.kind === 'entry' && r.record.group === opsUid)).toEqual([]);

    // His desktop, not synced since, still holds the old key: an edit made there, pushed as it stands, is refused, nothing stored.
    const before = (await (await teamClient(a)).call('syncPull', { vault, since: 0 })).upTo;
    await setPassword(b, 'Acme/Switch', 's-revoked');
    const bobsEdit = await onDesktop(b, (s) => s.replica.outgoing());
    await expect((await teamClient(b)).call('syncPush', { batch: bobsEdit.batch })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // The owner's other desktop, which had not synced since, edits under the old key version: a
    // push of it as it stands is refused too.
    await setPassword(a2, 'Acme/Switch', 's-old-key');
    const underOldKey = await onDesktop(a2, (s) => s.replica.outgoing());
    expect(underOldKey.batch.records.some((r) => r.kind === 'entry' && r.group === opsUid && r.keyVersion === 1)).toBe(true);
    await expect((await teamClient(a2)).call('syncPush', { batch: underOldKey.batch })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await (await teamClient(a)).call('syncPull', { vault, since: 0 })).upTo).toBe(before);
    expect((await sync(a)).code).toBe('ok');
    expect(await passwordOf(a, 'Acme/Switch')).toBe('s-bob');
    expect(await passwordOf(a, 'Acme/Firewall')).toBe('f-2');
    // What bob may still see moves on as before (the default group's entries).
    await setPassword(a, 'Acme/Printer', 'p-2');
    expect((await sync(a)).code).toBe('ok');
    const later = await (await teamClient(b)).call('syncPull', { vault, since: before });
    expect(later.records.map((r) => r.record.kind === 'entry' ? r.record.group : r.record.kind)).not.toContain(opsUid);
    expect(later.records.some((r) => r.record.kind === 'entry')).toBe(true);
  });

  it('tells the revoked desktop: its sync drops the group, its key and entries, and the edit it could not send, and says so', async () => {
    // As a person reads it (the --json form carries accessRemoved: [{ group, droppedEdits }]).
    clock.advance(1_000);
    const bobSync = await runScripted(['sync', server.url, '--vault', b.file, '--user', BOB], [BOB_PASSWORD], clock, b.env);
    expect(bobSync.code, bobSync.stderr).toBe('ok');
    expect(bobSync.stdout).toContain('Your access to the group "Ops" was removed: its entries are no longer on this computer; 1 edit made here in it could not be sent and was dropped.');
    expect(bobSync.stdout).not.toContain('set aside');
    // Signed in again: Ops and its entries are gone from this desktop, the rest moves on (the owner's p-2).
    const left = await onDesktop(b, async (s) => ({
      groups: (await s.team.listGroups()).map((g) => g.name),
      titles: (await s.listEntries()).map((e) => `${e.customer}/${e.title}`),
      printer: await s.revealPassword((await s.resolvePath('Acme/Printer')).id),
      switch: await s.resolvePath('Acme/Switch').then(() => 'found', (error: unknown) => (error as { code?: string }).code),
    }));
    expect(left).toEqual({ groups: ['Default'], titles: ['Acme/Printer'], printer: 'p-2', switch: 'NOT_FOUND' });
    const plain = await runScripted(['sync', server.url, '--vault', b.file, '--user', BOB], [BOB_PASSWORD], clock, b.env);
    expect(plain.code, plain.stderr).toBe('ok');
    // Told once: the group is gone, nothing is set aside, its later syncs are quiet about it.
    expect(plain.stdout).not.toContain('access');
    expect(plain.stdout).not.toContain('set aside');
  });

  it('takes a rotation in on the owner\'s other desktop: it syncs, opens the group under its new key after signing in again, and writes in it (no file copy)', async () => {
    // a2 still holds Ops at its old key version with an edit of its own there (the test before).
    expect(await onDesktop(a2, async (s) => (await s.team.listGroups()).find((g) => g.id === opsId)?.members)).toBe(2);
    expect((await sync(a2)).code).toBe('ok');
    // Signed in again: the list, every entry of the group opening, the rotating desktop's versions in
    // place and a2's own edit kept beside them (both sides changed Switch).
    const seen = await onDesktop(a2, async (s) => ({
      titles: (await s.listEntries()).map((e) => `${e.customer}/${e.title}`).sort(),
      switch: await s.revealPassword((await s.resolvePath('Acme/Switch')).id),
      copy: await s.revealPassword((await s.resolvePath('Acme/Switch (conflict copy)')).id),
      firewall: await s.revealPassword((await s.resolvePath('Acme/Firewall')).id),
      members: (await s.team.members(opsId)).map((m) => m.name).sort(),
    }));
    expect(seen).toEqual({
      titles: ['Acme/Firewall', 'Acme/Printer', 'Acme/Switch', 'Acme/Switch (conflict copy)'], switch: 's-bob', copy: 's-old-key', firewall: 'f-2', members: [OWNER],
    });
    // a2 writes in the group again, under its new key: the server takes it, and the owner's first desktop reads it.
    await setPassword(a2, 'Acme/Firewall', 'f-3');
    expect((await sync(a2)).code).toBe('ok');
    expect((await sync(a)).code).toBe('ok');
    expect(await passwordOf(a, 'Acme/Firewall')).toBe('f-3');
    expect(await passwordOf(a, 'Acme/Switch (conflict copy)')).toBe('s-old-key');
    // Nothing left set aside on a2, and its next sign-in still opens everything.
    expect((await sync(a2)).code).toBe('ok');
    expect(await passwordOf(a2, 'Acme/Firewall')).toBe('f-3');
  });

  it('takes a grant in on the granted desktop: the key, the group, its entries as the server hands them over again; they read and write there', async () => {
    await onDesktop(a, async (s) => s.team.grant(opsId, BOB, false, await s.team.groupRevision(opsId)));
    expect((await sync(a)).code).toBe('ok');
    const bobSync = await sync(b);
    expect(bobSync.code, bobSync.stderr).toBe('ok');
    expect(JSON.parse(bobSync.stdout)).toMatchObject({ held: 0 });
    // Signed in again: Ops is his, every entry of it at its latest (the owner's f-3 and the copy a2 kept).
    const seen = await onDesktop(b, async (s) => ({
      groups: (await s.team.listGroups()).map((g) => g.name).sort(),
      titles: (await s.listEntries()).map((e) => `${e.customer}/${e.title}`).sort(),
      firewall: await s.revealPassword((await s.resolvePath('Acme/Firewall')).id),
      copy: await s.revealPassword((await s.resolvePath('Acme/Switch (conflict copy)')).id),
    }));
    expect(seen).toEqual({
      groups: ['Default', 'Ops'], titles: ['Acme/Firewall', 'Acme/Printer', 'Acme/Switch', 'Acme/Switch (conflict copy)'], firewall: 'f-3', copy: 's-old-key',
    });
    await setPassword(b, 'Acme/Firewall', 'f-bob');
    expect((await sync(b)).code).toBe('ok');
    expect((await sync(a)).code).toBe('ok');
    expect(await passwordOf(a, 'Acme/Firewall')).toBe('f-bob');
  });

  it('takes a first grant in: carol, who never held Ops, is granted it at its current key version and reads every entry of it from the server', async () => {
    // Her desktop's file holds Ops as it was copied (under its first key, since rotated): not hers to read.
    expect(await onDesktop(c, async (s) => (await s.team.listGroups()).map((g) => g.name))).toEqual(['Default']);
    await onDesktop(a, async (s) => s.team.grant(opsId, CAROL, false, await s.team.groupRevision(opsId)));
    expect((await sync(a)).code).toBe('ok');
    const carolSync = await sync(c);
    expect(carolSync.code, carolSync.stderr).toBe('ok');
    expect(JSON.parse(carolSync.stdout)).toMatchObject({ held: 0 });
    const seen = await onDesktop(c, async (s) => ({
      groups: (await s.team.listGroups()).map((g) => g.name).sort(),
      firewall: await s.revealPassword((await s.resolvePath('Acme/Firewall')).id),
      switch: await s.revealPassword((await s.resolvePath('Acme/Switch')).id),
    }));
    expect(seen).toEqual({ groups: ['Default', 'Ops'], firewall: 'f-bob', switch: 's-bob' });
  });

  it('converges after two rotations at once (review six hole 4): the desktop whose rotation the server refused gives way, revokes again past it, and its unsent edit arrives', async () => {
    expect((await sync(a2)).code).toBe('ok');
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    // Before either syncs: the owner's first desktop revokes bob; the other revokes carol and edits Switch.
    await onDesktop(a, async (s) => s.team.revoke(opsId, BOB, await s.team.memberRevision(opsId, BOB)));
    await onDesktop(a2, async (s) => s.team.revoke(opsId, CAROL, await s.team.memberRevision(opsId, CAROL)));
    await setPassword(a2, 'Acme/Switch', 's-a2');
    expect((await sync(a)).code).toBe('ok');
    const a2Sync = await sync(a2);
    expect(a2Sync.code, a2Sync.stderr).toBe('ok');
    expect(JSON.parse(a2Sync.stdout)).toMatchObject({ held: 0, conflictCopies: 0 });
    const aSync = await sync(a);
    expect(aSync.code, aSync.stderr).toBe('ok');
    expect(JSON.parse(aSync.stdout)).toMatchObject({ held: 0, conflictCopies: 0 });
    // One key on both desktops (a2's rotation past a's), every entry opening on each, a2's edit in place.
    const seenOn = (d: Desktop) => onDesktop(d, async (s) => ({
      members: (await s.team.members(opsId)).map((m) => m.name).sort(),
      titles: (await s.listEntries()).map((e) => `${e.customer}/${e.title}`).sort(),
      switch: await s.revealPassword((await s.resolvePath('Acme/Switch')).id),
      firewall: await s.revealPassword((await s.resolvePath('Acme/Firewall')).id),
    }));
    const onA = await seenOn(a);
    expect(onA).toEqual({ members: [OWNER], titles: ['Acme/Firewall', 'Acme/Printer', 'Acme/Switch', 'Acme/Switch (conflict copy)'], switch: 's-a2', firewall: 'f-bob' });
    expect(await seenOn(a2)).toEqual(onA);
    const versions = [a, a2].map((d) => {
      const db = new Database(d.file, { readonly: true });
      const row = db.prepare('SELECT key_version FROM access_groups WHERE id = ?').get(opsId) as { key_version: number };
      db.close();
      return row.key_version;
    });
    expect(versions[0]).toBe(versions[1]);
    // Both revoked members are cut off on the server: neither pull brings anything of Ops.
    for (const d of [b, c]) {
      const pulled = await (await teamClient(d)).call('syncPull', { vault, since: 0 });
      expect(pulled.records.filter((r) => r.record.kind === 'entry' && r.record.group === opsUid), d.name).toEqual([]);
    }
  });
});
