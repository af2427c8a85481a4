/**
 * Two rotations at once, the winner's edit event on a later pull page than its entry record (#15,
 * the limit docs/SYNC.md named: "the winner's edit event arriving on a later pull page than its
 * entry record is not seen by the rule (a page holds up to 1,000 records)"). As
 * concurrent-rotation-winner-edit.test.ts: the owner's two desktops each revoke someone from Ops
 * before syncing, the winner edits both entries and the other edits Firewall; the winner's file
 * is stepped back one revision to stand for the version the rule tells apart. The desktop that
 * gives way pulls pages cut right after the winner's entry records (syncOnce's pullRecords), so
 * the events editing them come on later pages: the rule judged each page alone and took the
 * winner's Firewall for its re-seal, writing its own edit over the winner's, silently. Now the
 * intake's pages are gathered (replica-given-way.ts GivenWayIntake) and the decision waits for
 * the last page: a conflict copy, both edits kept. A real server (PGlite, loopback HTTP), the
 * sync's own code, a private Secret Service. Must never: put a password in a process argument
 * (answers go on the scripted stdin), or pass while an edit of either side is lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TeamClient } from '../../electron/team/client';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import type { VaultSession } from '../../electron/vault/service';
import { createVault, Vault } from '../../electron/vault/vault';
import { startServer, type RunningServer } from '../../server/main';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { copyAsNewDesktop } from '../support/replica';
import { runScripted, type CliOutcome } from '../support/scripted-cli';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';

const BOB = 'bob';
const CAROL = 'carol';
const SERVER_PASSWORD = 'alice on the team server 1';
const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));

interface Desktop {
  readonly name: string;
  readonly file: string;
  readonly keychain: string;
  readonly env: NodeJS.ProcessEnv;
}

let keyring: PrivateKeyring;
let server: RunningServer;
let home: string;
/** The owner's desktop (the winner) and the owner's second desktop (gives way). */
let a: Desktop;
let a2: Desktop;
let opsId: number;

function desktop(name: string): Desktop {
  const keychain = `crewvault-given-way-pages-${name}`;
  return { name, keychain, file: path.join(home, `desktop-${name}.crewvault`), env: { CREWVAULT_CONFIG: path.join(home, `config-${name}`), CREWVAULT_KEYCHAIN_SERVICE: keychain } };
}

async function onDesktop<T>(d: Desktop, work: (session: VaultSession) => Promise<T>): Promise<T> {
  const session = await Vault.open(d.file, clock).signIn(OWNER, PASSWORD);
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

/** `crewvault sync --json` on a desktop as its person; fails the test on an error. */
async function sync(d: Desktop, ...flags: string[]): Promise<{ held: number; conflictCopies: number }> {
  clock.advance(1_000);
  const out = await runScripted(['sync', server.url, '--json', '--vault', d.file, '--user', OWNER, ...flags], [PASSWORD], clock, d.env);
  expect(out.code, `${d.name}: sync: ${out.stderr}`).toBe('ok');
  return JSON.parse(out.stdout) as { held: number; conflictCopies: number };
}

/** A team client with the desktop's own kept session, as `crewvault sync` takes it (its server key known). */
async function teamClient(d: Desktop): Promise<TeamClient> {
  return (await keptSession(serverPlace(d.env), new URL(server.url).origin, () => clock.now())).client;
}

async function setPassword(d: Desktop, entryPath: string, password: string): Promise<void> {
  clock.advance(1_000);
  await onDesktop(d, async (s) => {
    const entry = await s.resolvePath(entryPath);
    await s.updateEntry(entry.id, { password }, entry.revision ?? -1);
  });
}

/** Each entry of Acme as `title=password`, sorted. */
async function passwords(d: Desktop): Promise<string[]> {
  return onDesktop(d, async (s) => {
    const out: string[] = [];
    for (const e of await s.listEntries()) out.push(`${e.title}=${await s.revealPassword(e.id)}`);
    return out.sort();
  });
}

beforeAll(async () => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-given-way-pages-'));
  const dataDir = path.join(home, 'server');
  server = await startServer({ dataDir, listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });
  [a, a2] = [desktop('a'), desktop('a2')];

  // The owner's vault: bob and carol technicians in Ops, which holds two entries.
  const session = await createVault(a.file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
  await session.createUser(BOB, 'technician', 'a one-time password for bob', FAST_KDF);
  await session.createUser(CAROL, 'technician', 'a one-time password for carol', FAST_KDF);
  const ops = await session.team.createGroup('Ops');
  opsId = ops.id;
  await session.team.grant(ops.id, BOB, false, await session.team.groupRevision(ops.id));
  await session.team.grant(ops.id, CAROL, false, await session.team.groupRevision(ops.id));
  await session.createEntries([
    { customer: 'Acme', title: 'Switch', password: 's-1', groupId: ops.id },
    { customer: 'Acme', title: 'Firewall', password: 'f-1', groupId: ops.id },
  ]);
  await session.close();
  await copyAsNewDesktop(a.file, a2.file, clock);
  for (const d of [a, a2]) await onDesktop(d, (s) => s.replica.agreeAll());
  await cli(a, ['login', server.url, '--user', 'alice', '--invite-file', path.join(dataDir, 'owner-invite.txt')], [SERVER_PASSWORD]);
  await cli(a2, ['login', server.url, '--user', 'alice'], [SERVER_PASSWORD]);
  await sync(a, '--move');
  await sync(a2);
}, 180_000);

afterAll(async () => {
  await server?.close();
  keyring?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('two rotations at once, the winner\'s edit event on a later pull page', () => {
  it('keeps both edits when the pull\'s pages end right after the entry records', async () => {
    await onDesktop(a2, async (s) => s.team.revoke(opsId, BOB, await s.team.memberRevision(opsId, BOB)));
    await setPassword(a2, 'Acme/Firewall', 'f-a2');
    await setPassword(a, 'Acme/Switch', 's-a');
    await setPassword(a, 'Acme/Firewall', 'f-a');
    await onDesktop(a, async (s) => s.team.revoke(opsId, CAROL, await s.team.memberRevision(opsId, CAROL)));
    const file = new Database(a.file);
    const stepBack = file.prepare('UPDATE entries SET revision = revision - 1 WHERE group_id = ?').run(opsId);
    file.close();
    expect(stepBack.changes).toBe(2);
    await sync(a);
    // The second desktop gives way, its pages cut right after the last entry record of the winner's
    // push: the events editing those entries all come on later pages.
    clock.advance(1_000);
    const client = await teamClient(a2);
    const [vault, since] = await onDesktop(a2, async (s) => [await s.replica.vaultId(), await s.replica.pulledUpTo()] as const);
    const ahead = (await client.call('syncPull', { vault, since })).records.map((r) => r.record);
    const cut = ahead.findLastIndex((r) => r.kind === 'entry') + 1;
    const firewall = ahead.find((r) => r.kind === 'entry' && ahead.some((e) => e.kind === 'event' && e.entry === r.id && e.action === 'entry.edit'))?.id;
    expect(cut).toBeGreaterThan(0);
    expect(ahead.slice(cut).some((r) => r.kind === 'event' && r.entry === firewall)).toBe(true);
    expect(ahead.slice(0, cut).some((r) => r.kind === 'event' && r.entry === firewall)).toBe(false);
    const pages: number[] = [];
    const given = await onDesktop(a2, (s) => syncOnce(client, s.replica, { pullRecords: cut, onProgress: (p) => pages.push(p.taken) }));
    expect(pages.filter((taken, i) => taken > 0 && taken !== pages[i - 1]).length).toBeGreaterThan(1);
    expect(given.held).toBe(0);
    expect(given.conflictCopies).toBe(1);
    await sync(a);
    await sync(a2);
    const expected = ['Firewall (conflict copy)=f-a2', 'Firewall=f-a', 'Switch=s-a'];
    for (const d of [a, a2]) expect(await passwords(d), d.name).toEqual(expected);
  });
});
