/**
 * A record a desktop sets aside never keeps its own changes off the team server (review round ten,
 * the class of holes 1, 1b and 3; docs/SYNC.md "Records a replica will not take"): people records
 * go in a part of their own before the entries (electron/team/sync.ts partsOf), and an entry whose
 * newer server version this desktop refused is pushed over it, the refused version recorded in the
 * audit log (ReplicaService.overwriteRefused). Two races the reviewer did not write: a member the
 * owner disables edits an entry the owner also edits, and syncs first; a member an admin demotes
 * (to auditor) edits an entry the admin also edits, and syncs first. Real server on PGlite, vault
 * files, the CLI's sync. Must never put a password in a process argument.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainDeviceStore } from '../../electron/devices';
import { TeamClient } from '../../electron/team/client';
import { ServerProfiles, SessionKeeper } from '../../electron/team/profiles';
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
const DAVE = 'dave';
const DAVE_PASSWORD = 'dave administers the vault';
const ERIN = 'erin';
const ERIN_PASSWORD = 'erin reads out the codes';
const SERVER_PASSWORD = { alice: 'alice on the team server 1', bob: 'bob on the team server 22', carol: 'carol on the team server 333', dave: 'dave on the team server 4444', erin: 'erin on the team server 55555' } as const;
/** Each person's vault user and password. */
const VAULT_LOGIN = { alice: [OWNER, PASSWORD], bob: [BOB, BOB_PASSWORD], carol: [CAROL, CAROL_PASSWORD], dave: [DAVE, DAVE_PASSWORD], erin: [ERIN, ERIN_PASSWORD] } as const;
const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));

interface Desktop {
  readonly name: string;
  readonly file: string;
  readonly person: 'alice' | 'bob' | 'carol' | 'dave' | 'erin';
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
let d: Desktop;
let e: Desktop;

function desktop(name: string, person: 'alice' | 'bob' | 'carol' | 'dave' | 'erin'): Desktop {
  const keychain = `crewvault-set-aside-${name}`;
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
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-set-aside-'));
  const dataDir = path.join(home, 'server');
  server = await startServer({ dataDir, listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });
  [a, a2, b, c, d, e] = [desktop('a', 'alice'), desktop('a2', 'alice'), desktop('b', 'bob'), desktop('c', 'carol'), desktop('d', 'dave'), desktop('e', 'erin')];

  // The owner's vault: bob a technician, in the group Ops (which holds two entries) and the default group.
  const session = await createVault(a.file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
  await session.createUser(BOB, 'technician', 'a one-time password for bob', FAST_KDF);
  // Carol is in the default group only, until the owner grants her Ops (the last test).
  await session.createUser(CAROL, 'technician', 'a one-time password for carol', FAST_KDF);
  const ops = await session.team.createGroup('Ops');
  await session.createUser(DAVE, 'admin', 'a one-time password for dave', FAST_KDF);
  await session.createUser(ERIN, 'codes_only', 'a one-time password for erin', FAST_KDF);
  await session.team.grant(ops.id, BOB, false, await session.team.groupRevision(ops.id));
  await session.team.grant(ops.id, CAROL, false, await session.team.groupRevision(ops.id));
  await session.team.grant(ops.id, ERIN, false, await session.team.groupRevision(ops.id));
  await session.createEntries([
    { customer: 'Acme', title: 'Switch', password: 's-1', groupId: ops.id },
    { customer: 'Acme', title: 'Firewall', password: 'f-1', groupId: ops.id },
    { customer: 'Acme', title: 'Printer', password: 'p-1' },
    { customer: 'Acme', title: 'Token', groupId: ops.id, otp: { params: { kind: 'hotp', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, period: 30, counter: 0 } } },
  ]);
  await session.close();
  const first = await Vault.open(a.file, clock).signIn(BOB, 'a one-time password for bob');
  await first.changePassword('a one-time password for bob', BOB_PASSWORD, FAST_KDF);
  await first.close();
  const carolFirst = await Vault.open(a.file, clock).signIn(CAROL, 'a one-time password for carol');
  await carolFirst.changePassword('a one-time password for carol', CAROL_PASSWORD, FAST_KDF);
  await carolFirst.close();
  const daveFirst = await Vault.open(a.file, clock).signIn(DAVE, 'a one-time password for dave');
  await daveFirst.changePassword('a one-time password for dave', DAVE_PASSWORD, FAST_KDF);
  await daveFirst.close();
  const erinFirst = await Vault.open(a.file, clock).signIn(ERIN, 'a one-time password for erin');
  await erinFirst.changePassword('a one-time password for erin', ERIN_PASSWORD, FAST_KDF);
  await erinFirst.close();
  for (const copy of [a2, b, c, d, e]) await copyAsNewDesktop(a.file, copy.file, clock);
  for (const each of [a, a2, b, c, d, e]) await onDesktop(each, (s) => s.replica.agreeAll());

  // Two accounts on the server: the owner's (the server's first), and bob's by the owner's invite.
  await cli(a, ['login', server.url, '--user', 'alice', '--invite-file', path.join(dataDir, 'owner-invite.txt')], [SERVER_PASSWORD.alice]);
  await cli(a2, ['login', server.url, '--user', 'alice'], [SERVER_PASSWORD.alice]);
  const invite = await (await teamClient(a)).call('inviteCreate', { username: 'bob', role: 'member' });
  await cli(b, ['login', server.url, '--user', 'bob', '--invite', '-'], [invite.invite, SERVER_PASSWORD.bob]);
  const carolInvite = await (await teamClient(a)).call('inviteCreate', { username: 'carol', role: 'member' });
  await cli(c, ['login', server.url, '--user', 'carol', '--invite', '-'], [carolInvite.invite, SERVER_PASSWORD.carol]);
  const daveInvite = await (await teamClient(a)).call('inviteCreate', { username: 'dave', role: 'member' });
  await cli(d, ['login', server.url, '--user', 'dave', '--invite', '-'], [daveInvite.invite, SERVER_PASSWORD.dave]);
  const erinInvite = await (await teamClient(a)).call('inviteCreate', { username: 'erin', role: 'member' });
  await cli(e, ['login', server.url, '--user', 'erin', '--invite', '-'], [erinInvite.invite, SERVER_PASSWORD.erin]);

  // The owner moves the vault (its people, groups and members with it) and says which account is bob.
  expect((await sync(a, '--move')).code).toBe('ok');
  const binding = await onDesktop(a, (s) => s.replica.accountRecord(BOB, invite.userId));
  const carolBinding = await onDesktop(a, (s) => s.replica.accountRecord(CAROL, carolInvite.userId));
  const daveBinding = await onDesktop(a, (s) => s.replica.accountRecord(DAVE, daveInvite.userId));
  const erinBinding = await onDesktop(a, (s) => s.replica.accountRecord(ERIN, erinInvite.userId));
  const vault = await onDesktop(a, (s) => s.replica.vaultId());
  await (await teamClient(a)).call('syncPush', { batch: { format: REPLICA_FORMAT, vault, records: [binding, carolBinding, daveBinding, erinBinding] } });
  for (const each of [a2, b, c, d, e]) expect((await sync(each)).code, each.name).toBe('ok');
}, 180_000);

afterAll(async () => {
  await server?.close();
  keyring?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});


/** What the server holds of vault user `name`: their role and whether they are disabled. */
async function serverUser(name: string): Promise<{ role: string; disabled: boolean } | undefined> {
  const vault = await onDesktop(a, (s) => s.replica.vaultId());
  let found: { role: string; disabled: boolean } | undefined;
  for (const r of (await (await teamClient(a)).call('syncPull', { vault, since: 0 })).records) if (r.record.kind === 'user' && r.record.name === name) found = { role: r.record.role, disabled: r.record.disabledAt !== null };
  return found;
}

/** `desktop`'s password of an entry, as its own file holds it. */
async function passwordOn(desktop: Desktop, entryPath: string): Promise<string> {
  return onDesktop(desktop, async (s) => s.revealPassword((await s.resolvePath(entryPath)).id));
}

/** A desktop's edit pushed as its file stands (its sync would pull first): 'stored' or the server's error code. */
async function pushAsItStands(desktop: Desktop): Promise<string> {
  const out = await onDesktop(desktop, (s) => s.replica.outgoing());
  return (await teamClient(desktop)).call('syncPush', { batch: out.batch }).then(() => 'stored', (error: unknown) => (error as { code?: string }).code ?? 'error');
}

describe('a record set aside here never keeps this desktop\'s changes off the server', () => {
  it('a disabled member\'s racing edit: the disable and the owner\'s edit reach the server, the refused version is in the owner\'s audit log', async () => {
    expect((await sync(a)).code).toBe('ok');
    await onDesktop(a, async (s) => s.team.disableUser(BOB, await s.team.userRevision(BOB)));
    await setPassword(a, 'Acme/Switch', 's-owner');
    // Bob, not yet told, edits Switch and syncs first: the server still has him enabled.
    await setPassword(b, 'Acme/Switch', 's-bob-race');
    expect((await sync(b)).code).toBe('ok');
    const answers: string[] = [];
    for (let i = 0; i < 2; i++) {
      const out = await sync(a);
      answers.push(out.code === 'ok' ? 'ok' : `${out.code}: ${out.stderr.trim()}`);
    }
    await setPassword(b, 'Acme/Firewall', 'f-bob-disabled');
    const bobLater = await pushAsItStands(b);
    expect((await sync(a2)).code).toBe('ok');
    const overwritten = (await onDesktop(a, (s) => s.auditLog())).filter((row) => row.action === 'entry.refused_overwritten');
    expect({ answers, bob: await serverUser(BOB), bobLater, switchOnA2: await passwordOn(a2, 'Acme/Switch'), overwritten: overwritten.length })
      .toEqual({ answers: ['ok', 'ok'], bob: { role: 'technician', disabled: true }, bobLater: 'FORBIDDEN', switchOnA2: 's-owner', overwritten: 1 });
    expect(overwritten[0]?.detail).toContain(`by ${BOB}`);
  });

  it('an admin\'s demotion crossing a member\'s edit: the role change and the admin\'s edit reach the server and the owner', async () => {
    // Both caught up first (the test before rotated Ops): the race below is on the same version.
    for (const each of [c, d]) expect((await sync(each)).code, each.name).toBe('ok');
    await onDesktop(d, async (s) => s.team.changeRole(CAROL, 'auditor', await s.team.userRevision(CAROL)));
    await setPassword(d, 'Acme/Firewall', 'f-admin');
    await setPassword(c, 'Acme/Firewall', 'f-carol-race');
    expect((await sync(c)).code).toBe('ok');
    const answers: string[] = [];
    for (let i = 0; i < 2; i++) {
      const out = await sync(d);
      answers.push(out.code === 'ok' ? 'ok' : `${out.code}: ${out.stderr.trim()}`);
    }
    expect((await sync(a)).code).toBe('ok');
    await setPassword(c, 'Acme/Switch', 's-carol-auditor');
    const carolLater = await pushAsItStands(c);
    expect({ answers, carol: await serverUser(CAROL), firewallOnA: await passwordOn(a, 'Acme/Firewall'), carolLater })
      .toEqual({ answers: ['ok', 'ok'], carol: { role: 'auditor', disabled: false }, firewallOnA: 'f-admin', carolLater: 'FORBIDDEN' });
  });

  it('a codes-only member who takes HOTP codes still syncs: their desktop sends no counter step, so the server\'s role check refuses nothing of theirs', async () => {
    for (const each of [a, e]) expect((await sync(each)).code, each.name).toBe('ok');
    const counterOn = async (desktop: Desktop): Promise<number> => onDesktop(desktop, async (s) => {
      const code = await s.otpCode((await s.resolvePath('Acme/Token')).id);
      return 'counter' in code ? code.counter : -1;
    });
    const taken = await counterOn(e);
    const answers = [(await sync(e)).code, (await sync(e)).code, (await sync(a)).code];
    // The owner's next code is at erin's counter: hers stayed on her desktop (docs/SYNC.md).
    expect({ answers, owners: await counterOn(a) }).toEqual({ answers: ['ok', 'ok', 'ok'], owners: taken });
  });
});
