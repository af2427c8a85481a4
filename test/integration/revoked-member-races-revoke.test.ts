/**
 * Since the fix (the people part pushed first (electron/team/sync.ts partsOf) and the refused version pushed over (ReplicaService.overwriteRefused)), this passes; the
 * reviewer's text as written follows. Review round ten, hole: a revoked member's racing edit keeps the revoke off the server for ever
 * (#15, ecee358/bb9db01, "an edit crossing a rotation"). The owner revokes bob from Ops on desktop
 * A (rotating its key); before A syncs, bob edits an Ops entry and syncs first (the server still
 * lists him, so it takes it). A's pull refuses bob's edit (its sender no longer holds the key here)
 * and sets it aside, so A's rotation's re-seal of that entry always conflicts, the whole batch
 * (the group record that removes bob) is refused, and every sync of A ends CONFLICT. Meanwhile
 * the server keeps bob a member: he keeps pulling and writing Ops. Expected (safe): within a few
 * syncs of A the server no longer hands bob Ops and refuses his pushes into it (FORBIDDEN). Must never put a
 * password in a process argument.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainDeviceStore } from '../../electron/devices';
import { TeamClient } from '../../electron/team/client';
import { ServerProfiles, SessionKeeper } from '../../electron/team/profiles';
import { uidText } from '../../electron/vault/ids';
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
  const keychain = `crewvault-r10-revrace-${name}`;
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
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-r10-revrace-'));
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
  const db = new Database(a.file, { readonly: true });
  opsUid = uidText((db.prepare('SELECT uid FROM access_groups WHERE id = ?').get(opsId) as { uid: Buffer }).uid);
  db.close();
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


describe('a revoked member races the revoke with an edit', () => {
  it('does not keep the revoke off the server', async () => {
    await onDesktop(a, async (s) => s.team.revoke(opsId, BOB, await s.team.memberRevision(opsId, BOB)));
    // Bob, not yet told, edits Switch and syncs first: the server still lists him in Ops.
    await setPassword(b, 'Acme/Switch', 's-bob-race');
    expect((await sync(b)).code).toBe('ok');
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) {
      const out = await sync(a);
      answers.push(out.code === 'ok' ? 'ok' : `${out.code}: ${out.stderr.trim()}`);
    }
    // Bob writes again after the revoke, after three syncs of the owner's: his desktop's batch pushed as it stands.
    await setPassword(b, 'Acme/Firewall', 'f-bob-after-revoke');
    const bobs = await onDesktop(b, (s) => s.replica.outgoing());
    const bobLater = await (await teamClient(b)).call('syncPush', { batch: bobs.batch }).then(() => 'stored', (error: unknown) => (error as { code?: string }).code ?? 'error');
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const bobSees = await (await teamClient(b)).call('syncPull', { vault, since: 0 });
    const opsSeenByBob = bobSees.records.filter((r) => r.record.kind === 'entry' && r.record.group === opsUid).length;
    expect({ answers, bobLater, opsSeenByBob }).toEqual({ answers: ['ok', 'ok', 'ok'], bobLater: 'FORBIDDEN', opsSeenByBob: 0 });
  });
});
