/**
 * Two rotations at once, the winner's edit one revision past the agreed one (#15, the limit
 * docs/SYNC.md named under "Not yet, and why"): the owner's two desktops each revoke someone from
 * Ops before syncing, and the one whose rotation the server keeps edited entries of it too. The
 * other gives way (replica-people-in.ts giveWay, replica-given-way.ts) and took any such version
 * for the winner's re-seal, writing its own over it: an entry it never touched went back to its
 * old password, an entry it had edited lost the winner's edit, both silently. Now an entry this
 * desktop did not write to takes the winner's version, and one written on both keeps both (a
 * conflict copy). Through the real code the winner's rotation re-seals every entry of the group
 * (so its edits stand two past the agreed revision); the test steps the winner's file back one
 * revision (one SQL statement) to stand for the version the rule had to tell apart. A real server
 * (PGlite, loopback HTTP), the real `crewvault sync` code, a private Secret Service. Must never:
 * put a password in a process argument (answers go on the scripted stdin), or pass while an edit
 * of either side is lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  const keychain = `crewvault-rotation-edit-${name}`;
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
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-rotation-edit-'));
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

describe('two rotations at once, the winner\'s edit one revision past the agreed one', () => {
  it('keeps the winner\'s edit on the desktop that gives way: taken where it wrote nothing, a conflict copy where it wrote too', async () => {
    // Before either syncs: the second desktop revokes bob and edits Firewall; the first revokes
    // carol after editing Switch and Firewall.
    await onDesktop(a2, async (s) => s.team.revoke(opsId, BOB, await s.team.memberRevision(opsId, BOB)));
    await setPassword(a2, 'Acme/Firewall', 'f-a2');
    await setPassword(a, 'Acme/Switch', 's-a');
    await setPassword(a, 'Acme/Firewall', 'f-a');
    await onDesktop(a, async (s) => s.team.revoke(opsId, CAROL, await s.team.memberRevision(opsId, CAROL)));
    // Its edit then stands one revision past the agreed one, as when its rotation re-sealed no
    // older version of the entry (docs/SYNC.md, "Not yet, and why"): the re-seal's revision step undone.
    const file = new Database(a.file);
    const stepBack = file.prepare('UPDATE entries SET revision = revision - 1 WHERE group_id = ?').run(opsId);
    file.close();
    expect(stepBack.changes).toBe(2);
    // The first desktop's sync wins; the second's gives way and rotates again past it.
    await sync(a);
    const given = await sync(a2);
    expect(given.held).toBe(0);
    expect(given.conflictCopies).toBe(1);
    await sync(a);
    await sync(a2);
    // Switch, which the second desktop never wrote to, is the winner's; Firewall, written on both,
    // keeps both: the winner's in place, the second desktop's beside it. Nothing written back over an edit.
    const expected = ['Firewall (conflict copy)=f-a2', 'Firewall=f-a', 'Switch=s-a'];
    for (const d of [a, a2]) expect(await passwords(d), d.name).toEqual(expected);
  });
});
