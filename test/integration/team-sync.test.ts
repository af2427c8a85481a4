// Two desktops' vaults (a file and its copy) kept in step through a real team server (PGlite,
// real HTTP on loopback) with `crewvault login` and `crewvault sync`, the server session in a
// private Secret Service: the owner moves the vault onto the server, each desktop's changes
// reach the other, both sides changing one entry keeps both versions whether the clash is
// found on pull or on push, and each desktop's audit log still verifies with the other's
// signed events in it.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainDeviceStore } from '../../electron/devices';
import { TeamClient } from '../../electron/team/client';
import { ServerProfiles, SessionKeeper } from '../../electron/team/profiles';
import type { VaultSession } from '../../electron/vault/service';
import { Vault } from '../../electron/vault/vault';

import { startServer, type RunningServer } from '../../server/main';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { runScripted } from '../support/scripted-cli';
import { renewDeviceId } from '../../electron/vault/store-signing';
import { createVault } from '../../electron/vault/vault';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';

const KEYCHAIN = 'crewvault-sync-test';
const SERVER_PASSWORD = 'alice on the team server 1';
let keyring: PrivateKeyring;
let server: RunningServer;
let dataDir: string;
/** Kept for the whole file (support/vault.ts's folders go after each test). */
let home: string;
const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));
const desktops: Array<{ file: string; keychain: string; env: NodeJS.ProcessEnv }> = [];

beforeAll(async () => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-sync-'));
  dataDir = path.join(home, 'server');
  server = await startServer({ dataDir, listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });
  // Desktop A: a vault with a few entries; desktop B: a copy of its file.
  const file = path.join(home, 'desktop-a.crewvault');
  const session = await createVault(file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
  await session.createEntries([
    { customer: 'Acme', title: 'Firewall', password: 'fw-1' },
    { customer: 'Acme', title: 'Printer', password: 'pr-1' },
    { customer: 'Initech', title: 'Router', password: 'rt-1' },
  ]);
  await session.close();
  const copy = path.join(home, 'desktop-b.crewvault');
  copyFileSync(file, copy);
  // The copy is another device before anyone signs in there (else both would chain events as one).
  const opened = Vault.open(copy, clock);
  await opened.store.write((w) => renewDeviceId(w));
  await opened.close();
  for (const [index, vault] of [file, copy].entries()) {
    const signedIn = await signIn(vault);
    await signedIn.replica.agreeAll();
    await signedIn.close();
    // Two computers: a config folder and a keychain each.
    desktops.push({ file: vault, keychain: `${KEYCHAIN}-${index}`, env: { CREWVAULT_CONFIG: path.join(home, `config-${index}`), CREWVAULT_KEYCHAIN_SERVICE: `${KEYCHAIN}-${index}` } });
  }
}, 120_000);

afterAll(async () => {
  await server?.close();
  keyring?.stop();
  rmSync(home, { recursive: true, force: true });
});

async function signIn(file: string): Promise<VaultSession> {
  return Vault.open(file, clock).signIn(OWNER, PASSWORD);
}

/** Runs `work` on desktop `index`'s vault, signed in, and closes it after. */
async function onDesktop<T>(index: number, work: (session: VaultSession) => Promise<T> | T): Promise<T> {
  const session = await signIn(desktops[index]?.file ?? '');
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

async function cli(index: number, args: readonly string[], answers: readonly string[]) {
  const desktop = desktops[index];
  if (!desktop) throw new Error('no such desktop');
  const out = await runScripted([...args, ...(args[0] === 'sync' ? ['--vault', desktop.file] : [])], answers, clock, desktop.env);
  expect(out.code, `${args.join(' ')}: ${out.stderr}`).toBe('ok');
  return out;
}

function sync(index: number, ...flags: string[]) {
  return cli(index, ['sync', '--json', ...flags], [PASSWORD]);
}

async function titles(session: VaultSession): Promise<string[]> {
  return (await session.listEntries()).map((e) => `${e.customer}/${e.title}`).sort();
}

async function edit(index: number, path: string, password: string): Promise<void> {
  await onDesktop(index, async (s) => {
    const entry = await s.resolvePath(path);
    await s.updateEntry(entry.id, { password }, entry.revision ?? -1);
  });
}

describe('a vault on two desktops through a team server', () => {
  it('is moved there by its owner, and each desktop\'s changes reach the other', async () => {
    const invite = path.join(dataDir, 'owner-invite.txt');
    await cli(0, ['login', server.url, '--user', 'alice', '--invite-file', invite], [SERVER_PASSWORD]);
    await cli(1, ['login', server.url, '--user', 'alice'], [SERVER_PASSWORD]);
    const moved = JSON.parse((await sync(0, '--move')).stdout) as { pushed: number };
    expect(moved.pushed).toBeGreaterThan(3);
    // B already holds all of it (a copy): taking it in changes nothing it shows.
    const first = JSON.parse((await sync(1)).stdout) as { applied: number; conflictCopies: number };
    expect(first.conflictCopies).toBe(0);

    await edit(0, 'Acme/Firewall', 'fw-2');
    await onDesktop(0, (s) => s.createEntry({ customer: 'Globex', title: 'Domain admin', password: 'g-1' }));
    await sync(0);
    await sync(1);
    await onDesktop(1, async (s) => {
      expect(await s.revealPassword((await s.resolvePath('Acme/Firewall')).id)).toBe('fw-2');
      expect(await titles(s)).toContain('Globex/Domain admin');
      expect((await s.verifyAuditLog()).chain).toMatchObject({ ok: true });
    });
    // And back the other way.
    await onDesktop(1, async (s) => {
      const globex = await s.resolvePath('Globex/Domain admin');
      await s.deleteEntry(globex.id, globex.revision ?? -1);
    });
    await sync(1);
    await sync(0);
    await onDesktop(0, async (s) => expect(await titles(s)).not.toContain('Globex/Domain admin'));
  });

  it('keeps both versions of an entry changed on both desktops, found when pulling', async () => {
    await edit(0, 'Acme/Printer', 'from-a');
    await edit(1, 'Acme/Printer', 'from-b');
    await sync(0);
    const onB = JSON.parse((await sync(1)).stdout) as { conflictCopies: number };
    expect(onB.conflictCopies).toBe(1);
    await sync(0);
    const [a, b] = await Promise.all([0, 1].map((i) => onDesktop(i, async (s) => ({
      titles: await titles(s),
      printer: await s.revealPassword((await s.resolvePath('Acme/Printer')).id),
      copy: await s.revealPassword((await s.resolvePath('Acme/Printer (conflict copy)')).id),
      verified: (await s.verifyAuditLog()).chain.ok,
    }))));
    expect(a).toEqual(b);
    expect(a).toMatchObject({ printer: 'from-a', copy: 'from-b', verified: true });
  });

  it('keeps both versions when the clash is found on pushing (someone pushed in between)', async () => {
    await edit(1, 'Initech/Router', 'rt-b');
    // B's changes go out as if it had pulled just before A pushed: the server names the conflict.
    const out = await onDesktop(1, (s) => s.replica.outgoing());
    await edit(0, 'Initech/Router', 'rt-a');
    await sync(0);
    const profile = new ServerProfiles(desktops[1]?.env.CREWVAULT_CONFIG ?? '').get(server.url);
    const tokens = await new SessionKeeper(keychainDeviceStore(desktops[1]?.keychain)).get(server.url, 'alice');
    if (!profile || !tokens) throw new Error('desktop B is not signed in');
    const client = new TeamClient(new URL(server.url), profile.trust, profile.deviceId);
    client.tokens = tokens;
    const refused = await client.call('syncPush', { batch: out.batch });
    expect(refused.accepted).toBe(0);
    expect(refused.conflicts.length).toBeGreaterThan(0);
    // Nothing of B's was marked sent: its next sync takes A's in and keeps its own as a copy.
    const resolved = JSON.parse((await sync(1)).stdout) as { conflictCopies: number };
    expect(resolved.conflictCopies).toBe(1);
    await sync(0);
    const [a, b] = await Promise.all([0, 1].map((i) => onDesktop(i, (s) => titles(s))));
    expect(a).toEqual(b);
    expect(a).toContain('Initech/Router (conflict copy)');
  });

  it('sets aside a record it will not take (forged, or made up by a member) and goes on syncing', async () => {
    const profile = new ServerProfiles(desktops[0]?.env.CREWVAULT_CONFIG ?? '').get(server.url);
    const tokens = await new SessionKeeper(keychainDeviceStore(desktops[0]?.keychain)).get(server.url, 'alice');
    if (!profile || !tokens) throw new Error('desktop A is not signed in');
    const client = new TeamClient(new URL(server.url), profile.trust, profile.deviceId);
    client.tokens = tokens;
    // A record of A's own sync, with its sealed bytes swapped after signing: the server refuses
    // it (it checks signatures), so a server that is itself compromised writes it in its database.
    const real = await onDesktop(0, async (s) => {
      const fw = await s.resolvePath('Acme/Firewall');
      await s.updateEntry(fw.id, { password: 'fw-3' }, fw.revision ?? -1);
      return s.replica.outgoing(false, true);
    });
    const forged = real.batch.records.map((r) => (r.kind === 'entry' ? { ...r, sealedDetails: r.sealedSummary } : r));
    await expect(client.call('syncPush', { batch: { ...real.batch, records: forged } })).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    const stored = await client.call('syncPush', { batch: real.batch });
    expect(stored.conflicts).toEqual([]);
    await onDesktop(0, (s) => s.replica.markSent(real, stored));
    const entry = forged.find((r) => r.kind === 'entry');
    if (entry === undefined) throw new Error('no entry in the push');
    await server.database.query('UPDATE sync_vaults SET seq = seq + 1 WHERE vault_id = $1', [real.batch.vault]);
    await server.database.query('UPDATE sync_records SET body = $3::jsonb, seq = (SELECT seq FROM sync_vaults WHERE vault_id = $1) WHERE vault_id = $1 AND record_id = $2', [real.batch.vault, entry.id, JSON.stringify(entry)]);
    // B takes in everything else, keeps the forged record aside, and still sends its own change.
    await edit(1, 'Initech/Router', 'rt-after-forgery');
    const onB = JSON.parse((await sync(1)).stdout) as { held: number; pushed: number };
    expect(onB.held).toBe(1);
    expect(onB.pushed).toBeGreaterThan(0);
    await onDesktop(1, async (s) => expect(await s.revealPassword((await s.resolvePath('Acme/Firewall')).id)).not.toBe('fw-3'));
    await sync(0);
    await onDesktop(0, async (s) => expect(await s.revealPassword((await s.resolvePath('Initech/Router')).id)).toBe('rt-after-forgery'));
    // Still set aside at the next sync (tried again, refused again), and said so.
    const again = await cli(1, ['sync'], [PASSWORD]);
    expect(again.stdout).toMatch(/1 record set aside/);
  });

  it('knows its own records when a push\'s reply was lost, and makes no conflict copy of itself', async () => {
    const profile = new ServerProfiles(desktops[1]?.env.CREWVAULT_CONFIG ?? '').get(server.url);
    const tokens = await new SessionKeeper(keychainDeviceStore(desktops[1]?.keychain)).get(server.url, 'alice');
    if (!profile || !tokens) throw new Error('desktop B is not signed in');
    const client = new TeamClient(new URL(server.url), profile.trust, profile.deviceId);
    client.tokens = tokens;
    const copiesBefore = await onDesktop(0, async (s) => (await titles(s)).filter((t) => t.startsWith('Acme/Printer (conflict copy)')).length);
    await edit(1, 'Acme/Printer', 'p-first');
    // B pushes as syncOnce does, and the server stores it, but the reply never reaches B.
    await onDesktop(1, async (s) => {
      const out = await s.replica.outgoing();
      await s.replica.pushing(out);
      expect((await client.call('syncPush', { batch: out.batch })).accepted).toBeGreaterThan(0);
    });
    await edit(1, 'Acme/Printer', 'p-second');
    const resolved = JSON.parse((await sync(1)).stdout) as { conflictCopies: number };
    expect(resolved.conflictCopies).toBe(0);
    await sync(0);
    await onDesktop(0, async (s) => {
      expect(await s.revealPassword((await s.resolvePath('Acme/Printer')).id)).toBe('p-second');
      expect((await titles(s)).filter((t) => t.startsWith('Acme/Printer (conflict copy)'))).toHaveLength(copiesBefore);
    });
  });

  it('stores nothing the server could read', async () => {
    const dump = await server.database.query('SELECT body::text AS body FROM sync_records');
    const text = dump.map((r) => String(r.body)).join('\n');
    // A short secret can turn up by chance inside a long base64 ciphertext (seen: 'rt-a'), so it is
    // sought only where it stands apart from base64 characters, as plaintext in the JSON would.
    for (const secret of ['fw-2', 'from-a', 'from-b', 'rt-a', 'rt-b', 'Firewall', 'Printer', 'Acme', 'Globex']) {
      expect(text).not.toMatch(new RegExp(`(?<![A-Za-z0-9_+-])${secret}(?![A-Za-z0-9_+-])`));
    }
    expect(readFileSync(path.join(dataDir, 'server-keys.json'), 'utf8')).not.toContain(PASSWORD);
  });

  it('with --watch, takes in another desktop\'s change as soon as the server tells it', async () => {
    const { spawn } = await import('node:child_process');
    const desktop = desktops[1];
    if (!desktop) throw new Error('no desktop B');
    // The watcher runs on the real clock: the server's is moved there so its tokens are current for it.
    clock.set(Date.now());
    await cli(1, ['login', server.url, '--user', 'alice'], [SERVER_PASSWORD]);
    await cli(0, ['login', server.url, '--user', 'alice'], [SERVER_PASSWORD]);
    const bin = path.resolve(import.meta.dirname, '../../bin/crewvault.mjs');
    const child = spawn(process.execPath, [bin, 'sync', '--watch', '--json', '--vault', desktop.file], { env: { ...process.env, ...desktop.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end(`${PASSWORD}\n`);
    const rounds: string[] = [];
    let waiting: (() => void) | undefined;
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        rounds.push(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
        waiting?.();
      }
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const nextRound = (count: number): Promise<void> => (rounds.length >= count ? Promise.resolve() : new Promise((resolve) => {
      waiting = () => { if (rounds.length >= count) resolve(); };
    }));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await nextRound(1); // its first round, before it listens
      await edit(0, 'Acme/Firewall', 'fw-watched');
      await sync(0);
      await nextRound(2);
      expect((JSON.parse(rounds[1] ?? '{}') as { applied: number }).applied).toBeGreaterThan(0);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, stderr).toBe(0);
    await onDesktop(1, async (s) => expect(await s.revealPassword((await s.resolvePath('Acme/Firewall')).id)).toBe('fw-watched'));
  });

  it('moves a vault in parts of one record each: its signing key goes first, so the server can check the rest', async () => {
    const profile = new ServerProfiles(desktops[0]?.env.CREWVAULT_CONFIG ?? '').get(server.url);
    const tokens = await new SessionKeeper(keychainDeviceStore(desktops[0]?.keychain)).get(server.url, 'alice');
    if (!profile || !tokens) throw new Error('desktop A is not signed in');
    const client = new TeamClient(new URL(server.url), profile.trust, profile.deviceId);
    client.tokens = tokens;
    client.serverKey = profile.serverKey; // the server's identity, as keptSession gives it (a vault is bound to it)
    const file = path.join(home, 'moved-in-parts.crewvault');
    const created = await createVault(file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
    await created.createEntries([{ customer: 'Umbrella', title: 'Switch', password: 'sw-1' }]);
    await created.close();
    const session = await signIn(file);
    try {
      const { syncOnce } = await import('../../electron/team/sync');
      const moved = await syncOnce(client, session.replica, { move: true, partRecords: 1 });
      expect(moved.pushed).toBeGreaterThan(3);
      const [row] = await server.database.query("SELECT count(*)::int AS n FROM sync_records WHERE vault_id = $1 AND kind = 'entry'", [await session.replica.vaultId()]);
      expect(row?.n).toBe(1);
    } finally {
      await session.close();
    }
  });

  it('lets the owner verify the whole audit history the server holds, and says where the server changed it', async () => {
    await sync(0);
    await sync(1);
    const verify = (): Promise<Awaited<ReturnType<typeof runScripted>>> => runScripted(['audit', 'verify', '--server', '--vault', desktops[0]?.file ?? ''], [PASSWORD], clock, desktops[0]?.env ?? {});
    const intact = await verify();
    expect(intact.code, intact.stderr).toBe('ok');
    expect(intact.stdout).toMatch(/^Audit history on http:\/\/127\.0\.0\.1:\d+ intact: \d+ events from \d+ devices, each signed by its author and in its device's order\.\n$/);
    // The server's database edited: one event of desktop B's made to say another thing.
    const [row] = await server.database.query("SELECT seq::int AS seq FROM sync_records WHERE kind = 'event' ORDER BY seq DESC LIMIT 1");
    await server.database.query("UPDATE sync_records SET body = jsonb_set(body, '{action}', '\"entry.delete\"') WHERE kind = 'event' AND seq = $1", [row?.seq]);
    const edited = await verify();
    expect(edited.code).toBe('VAULT_TAMPERED');
    expect(edited.stderr).toContain(`broken at sequence ${String(row?.seq)}: the event at sequence ${String(row?.seq)} was changed after its author signed it`);
  });
});
