/**
 * A rotation crossed by an edit (#15, the BUSY jam docs/SYNC.md names at the end of the
 * concurrent-rotation paragraph): the owner revokes carol on desktop A (A rotates Ops's key and
 * re-seals its entries one revision on) while an edit of one of those entries, made on another
 * desktop under the key A rotated from, reaches the server first (legitimately: the rotation is not
 * there yet). A's re-seal then conflicts on the server and its pull could not take the edit, sealed
 * under a key A no longer held: every sync answered BUSY, for ever. Expected: within a few syncs
 * both desktops hold the edit (nothing lost silently) at the new key version, carol is cut off (no
 * wrap of it), and the key A rotated from is no longer kept once the server stored the rotation. A real server (PGlite, loopback HTTP), the real
 * `crewvault sync` code, a private Secret Service. Must never: put a password in a process
 * argument (answers go on the scripted stdin), or pass while a sync answers BUSY or an edit is lost.
 * Where the key rotated from is not kept (a rotation made by the earlier code), the sync ends in one
 * clear CONFLICT naming why, not BUSY after three rounds (electron/team/sync.ts stuckOnHeld).
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

const CAROL = 'carol';
const SERVER_PASSWORD = 'alice on the team server 1';
const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));

interface Desktop {
  readonly name: string;
  readonly file: string;
  readonly env: NodeJS.ProcessEnv;
}

let keyring: PrivateKeyring;
let server: RunningServer;
let home: string;
/** The desktop that rotates (A) and the one whose edit crosses its rotation (B). */
let a: Desktop;
let b: Desktop;
let opsId: number;

function desktop(name: string): Desktop {
  return { name, file: path.join(home, `desktop-${name}.crewvault`), env: { CREWVAULT_CONFIG: path.join(home, `config-${name}`), CREWVAULT_KEYCHAIN_SERVICE: `crewvault-rotation-crossed-${name}` } };
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

/** `crewvault sync --json` on a desktop; its outcome code and the error line, if any. */
async function trySync(d: Desktop, ...flags: string[]): Promise<CliOutcome> {
  clock.advance(1_000);
  return runScripted(['sync', server.url, '--json', '--vault', d.file, '--user', OWNER, ...flags], [PASSWORD], clock, d.env);
}

async function sync(d: Desktop, ...flags: string[]): Promise<void> {
  const out = await trySync(d, ...flags);
  expect(out.code, `${d.name}: sync: ${out.stderr}`).toBe('ok');
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
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-rotation-crossed-'));
  const dataDir = path.join(home, 'server');
  server = await startServer({ dataDir, listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });
  [a, b] = [desktop('a'), desktop('b')];
  const session = await createVault(a.file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
  await session.createUser(CAROL, 'technician', 'a one-time password for carol', FAST_KDF);
  const ops = await session.team.createGroup('Ops');
  opsId = ops.id;
  await session.team.grant(ops.id, CAROL, false, await session.team.groupRevision(ops.id));
  await session.createEntries([
    { customer: 'Acme', title: 'Switch', password: 's-1', groupId: ops.id },
    { customer: 'Acme', title: 'Firewall', password: 'f-1', groupId: ops.id },
  ]);
  await session.close();
  await copyAsNewDesktop(a.file, b.file, clock);
  for (const d of [a, b]) await onDesktop(d, (s) => s.replica.agreeAll());
  await cli(a, ['login', server.url, '--user', 'alice', '--invite-file', path.join(dataDir, 'owner-invite.txt')], [SERVER_PASSWORD]);
  await cli(b, ['login', server.url, '--user', 'alice'], [SERVER_PASSWORD]);
  await sync(a, '--move');
  await sync(b);
}, 180_000);

afterAll(async () => {
  await server?.close();
  keyring?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('an edit crossing a rotation', () => {
  it('converges within a few syncs: the edit kept under the new key, carol cut off, no BUSY', async () => {
    // A revokes carol (rotating Ops, re-sealing Switch and Firewall); B edits Switch under the old
    // key and its sync reaches the server first.
    await onDesktop(a, async (s) => s.team.revoke(opsId, CAROL, await s.team.memberRevision(opsId, CAROL)));
    await setPassword(b, 'Acme/Switch', 's-b');
    await sync(b);
    // A syncs: each answer noted, none may be BUSY (or any other error).
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) {
      const out = await trySync(a);
      answers.push(out.code === 'ok' ? 'ok' : out.stderr.trim());
    }
    expect(answers).toEqual(['ok', 'ok', 'ok']);
    await sync(b);
    // B's edit is kept, now under A's new key, on both desktops; Firewall as it was.
    for (const d of [a, b]) expect(await passwords(d), d.name).toEqual(['Firewall=f-1', 'Switch=s-b']);
    // Both hold the new key version and no wrap of it for carol; A kept the key it rotated from
    // only until the server stored its rotation (a revoked member's key does not linger).
    for (const d of [a, b]) {
      const file = new Database(d.file, { readonly: true });
      try {
        expect((file.prepare('SELECT key_version FROM access_groups WHERE id = ?').get(opsId) as { key_version: number }).key_version, d.name).toBe(2);
        expect(file.prepare('SELECT count(*) AS n FROM group_keys gk JOIN users u ON u.id = gk.user_id WHERE gk.group_id = ? AND u.name = ?').get(opsId, CAROL), d.name).toEqual({ n: 0 });
        expect(file.prepare("SELECT count(*) AS n FROM meta WHERE key LIKE 'rotated_from:%'").get(), d.name).toEqual({ n: 0 });
      } finally {
        file.close();
      }
    }
    const members = await onDesktop(a, (s) => s.team.members(opsId));
    expect(members.map((m) => m.name)).not.toContain(CAROL);
  });

  it('keeps both where the rotating desktop edited the entry too: the crossing edit in place, its own as a conflict copy', async () => {
    await onDesktop(a, async (s) => s.team.grant(opsId, CAROL, false, await s.team.groupRevision(opsId)));
    await sync(a);
    await sync(b);
    // A edits Firewall and revokes carol again; B's edit of Firewall reaches the server first.
    await setPassword(a, 'Acme/Firewall', 'f-a');
    await onDesktop(a, async (s) => s.team.revoke(opsId, CAROL, await s.team.memberRevision(opsId, CAROL)));
    await setPassword(b, 'Acme/Firewall', 'f-b');
    await sync(b);
    const answers: string[] = [];
    for (let i = 0; i < 2; i++) {
      const out = await trySync(a);
      answers.push(out.code === 'ok' ? 'ok' : out.stderr.trim());
    }
    expect(answers).toEqual(['ok', 'ok']);
    await sync(b);
    for (const d of [a, b]) expect(await passwords(d), d.name).toEqual(['Firewall (conflict copy)=f-a', 'Firewall=f-b', 'Switch=s-b']);
    const file = new Database(a.file, { readonly: true });
    try {
      expect(file.prepare("SELECT count(*) AS n FROM meta WHERE key LIKE 'rotated_from:%'").get()).toEqual({ n: 0 });
    } finally {
      file.close();
    }
  });

  it('ends in one clear CONFLICT, not BUSY, where the key rotated from is not kept (a rotation made by the earlier code)', async () => {
    await onDesktop(a, async (s) => s.team.grant(opsId, CAROL, false, await s.team.groupRevision(opsId)));
    await sync(a);
    await sync(b);
    await onDesktop(a, async (s) => s.team.revoke(opsId, CAROL, await s.team.memberRevision(opsId, CAROL)));
    // As a file whose rotation was made before the key was kept: the kept version removed.
    const file = new Database(a.file);
    const removed = file.prepare("DELETE FROM meta WHERE key LIKE 'rotated_from:%'").run();
    file.close();
    expect(removed.changes).toBe(1);
    await setPassword(b, 'Acme/Switch', 's-b2');
    await sync(b);
    const out = await trySync(a);
    expect(out.code, out.stderr).toBe('CONFLICT');
    expect(out.message).toMatch(/cannot take in yet.*sealed under a key of an access group/);
  });
});
