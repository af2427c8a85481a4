/**
 * Leaving a 16-byte device id checks the log before it re-signs (store-audit.ts leaveOldDevice,
 * docs/SYNC.md "Who a device is"). The last describe is review 14 hole 3's file, unchanged; the
 * first adds a changed row detail, a broken device link, a row signed by someone else's key and
 * a removed keyed anchor: each leaves nothing re-signed and the old id kept, and the sync says so.
 *
 * Review 14 (hostile, #15): leaving a 16-byte device id (008df2a, store-audit.ts leaveOldDevice)
 * re-signs every event of the old chain with the person's key without checking that each row's
 * old signature (or its hash in the chain) still holds over what the row now says. A row changed
 * in the file by someone without bob's key (here: his reveal of Switch made to name Firewall) was,
 * before, an event whose signature fails everywhere; the sync launders it into a validly signed
 * event by bob, which the server and the owner's desktop take in as his.
 * Real server on PGlite (loopback HTTP), real vault files and crypto, the real `crewvault` sync.
 * Must never: sleep on the wall clock (the clock is injected), or print a key or password.
 * Failed while the hole was open (it asserts what should hold).
 */
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { signBytes, type Signer } from '../../electron/vault/signing';
import { storedEventBytes } from '../../electron/vault/store-audit';
import { Vault } from '../../electron/vault/vault';
import { signerOf } from '../support/desktop-copies';
import { copyAsNewDesktop } from '../support/replica';
import { CAROL, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { auditChainOf, readOneRow } from '../support/vault-file-reads';

const clock = manualClock();
const world = useTeamDesktops('r14-old-device-resign', clock);

/** As old-device-leave.test.ts: the file's events moved onto a random 16-byte id, as a desktop from before derived ids. */
async function asDeviceFromBefore(file: string, signer: Signer): Promise<Buffer> {
  const old = randomBytes(16);
  const opened = Vault.open(file, clock);
  try {
    await opened.store.write((w) => {
      const derived = /^([0-9a-f]{64}):/.exec(w.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'this_device_derived'").get()?.value ?? '')?.[1];
      if (derived === undefined) throw new Error('no derived device to move');
      let link: Buffer | null = null;
      for (const { id } of w.prepare<[Buffer], { id: number }>('SELECT id FROM audit_log WHERE device_id = ? ORDER BY id').all(Buffer.from(derived, 'hex'))) {
        w.prepare('UPDATE audit_log SET device_id = ?, device_prev = ? WHERE id = ?').run(old, link, id);
        const signature = signBytes(signer.privateKey, storedEventBytes(w, id));
        w.prepare('UPDATE audit_log SET signature = ? WHERE id = ?').run(signature, id);
        link = createHash('sha256').update(signature).digest();
      }
      w.prepare("DELETE FROM meta WHERE key = 'this_device_derived'").run();
      w.prepare('INSERT INTO this_device (id, device_id, created_at) VALUES (1, ?, 0)').run(old);
    });
  } finally {
    await opened.close();
  }
  return old;
}

/** bob's events on `file` naming the entry `uid`: their actions. */
function bobsEventsOn(file: string, uid: Buffer): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[Buffer], { action: string }>("SELECT l.action FROM audit_log l JOIN users u ON u.id = l.actor_id JOIN entries e ON e.id = l.entry_id WHERE u.name = 'bob' AND e.uid = ? AND l.signature IS NOT NULL").all(uid).map((r) => r.action);
  } finally {
    db.close();
  }
}

/** The rows on device `old` in `file`: id, actor and signature, to tell whether any was re-signed or moved. */
function onDevice(file: string, old: Buffer): Array<{ id: number; signature: Buffer | null }> {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[Buffer], { id: number; signature: Buffer | null }>('SELECT id, signature FROM audit_log WHERE device_id = ? ORDER BY id').all(old);
  } finally {
    db.close();
  }
}

// First: review 14's control changes bob's own file, which these copy.
describe('leaving a 16-byte device id re-signs nothing when the log does not verify', () => {
  /** A copy of bob's desktop on a 16-byte id with a reveal on it, `change` made to its file by a hand without bob's key, then left. */
  async function leaveAfter(name: string, change: (file: Database.Database, old: Buffer, rows: ReadonlyArray<{ id: number }>) => void): Promise<void> {
    const { b, onDesktop, sync } = world;
    const d: Desktop = { name, person: 'bob', file: path.join(path.dirname(b.file), `desktop-${name}.crewvault`), keychain: b.keychain, env: b.env };
    await copyAsNewDesktop(b.file, d.file, clock);
    clock.advance(1_000);
    const old = await asDeviceFromBefore(d.file, await onDesktop(d, (s) => Promise.resolve(signerOf(s))));
    clock.advance(1_000);
    await onDesktop(d, async (s) => s.revealPassword((await s.resolvePath('Acme/Switch')).id));
    expect(await auditChainOf(d.file, clock)).toMatchObject({ ok: true });
    const rows = onDevice(d.file, old);
    expect(rows.length, name).toBeGreaterThanOrEqual(3);
    const file = new Database(d.file);
    try {
      change(file, old, rows);
    } finally {
      file.close();
    }
    const before = onDevice(d.file, old);
    // Left through the replica itself: nothing re-signed, nothing moved, the old id still this file's.
    const left = await onDesktop(d, (s) => s.replica.leaveOldDevice());
    expect(left, name).toMatchObject({ left: 'unverified' });
    expect(onDevice(d.file, old).slice(0, before.length), name).toEqual(before);
    expect(readOneRow<{ device_id: Buffer }>(d.file, 'SELECT device_id FROM this_device')?.device_id.equals(old), name).toBe(true);
    expect(readOneRow<{ value: string }>(d.file, "SELECT value FROM meta WHERE key = 'this_device_derived'"), name).toBeUndefined();
    // The sync says so in its one line (with its error, should the server refuse the changed row).
    const out = await sync(d);
    expect(`${out.stdout}${out.stderr}`.split('\n').filter((l) => l.includes('device id from before derived ids')), name)
      .toEqual([expect.stringContaining('was kept: its audit log does not verify') as unknown]);
    expect(onDevice(d.file, old).slice(0, before.length), name).toEqual(before);
  }

  it('a row\'s detail changed (its time), a device link broken, a row signed by another person\'s key, the keyed anchor removed', async () => {
    const carolSigner = await world.onDesktop(world.c, (s) => Promise.resolve(signerOf(s)));
    const carolKeyUid = readOneRow<{ uid: Buffer }>(world.c.file, 'SELECT uid FROM signing_keys WHERE id = ?', carolSigner.keyId)?.uid;
    if (carolKeyUid === undefined) throw new Error('set-up: no key of carol');
    await leaveAfter('detail', (file, _old, rows) => {
      file.prepare('UPDATE audit_log SET at = at + 60000 WHERE id = ?').run(rows[1]?.id);
    });
    await leaveAfter('link', (file, _old, rows) => {
      file.prepare('UPDATE audit_log SET device_prev = ? WHERE id = ?').run(randomBytes(32), rows[1]?.id);
    });
    await leaveAfter('carol-signed', (file, _old, rows) => {
      // bob's row, signed (validly, over its text as it stands) by carol's key: an event bob never signed.
      const id = rows[1]?.id ?? 0;
      const keyId = file.prepare<[Buffer], { id: number }>('SELECT id FROM signing_keys WHERE uid = ?').get(carolKeyUid)?.id;
      if (keyId === undefined) throw new Error('set-up: carol\'s key not on this file');
      file.prepare('UPDATE audit_log SET signer_key_id = ? WHERE id = ?').run(keyId, id);
      const row = file.prepare<[number], { actor: string }>('SELECT u.name AS actor FROM audit_log l JOIN users u ON u.id = l.actor_id WHERE l.id = ?').get(id);
      expect(row?.actor).toBe('bob');
      expect(row?.actor).not.toBe(CAROL);
    });
    await leaveAfter('anchor', (file) => {
      file.prepare("DELETE FROM meta WHERE key = 'audit_anchor'").run();
    });
  }, 240_000);
});

describe('leaving a 16-byte device id (review 14)', () => {
  it('does not sign, as bob, an event of his old chain changed in the file by someone without his key', async () => {
    const { a, b, onDesktop, sync } = world;
    const b2: Desktop = { name: 'b2', person: 'bob', file: path.join(path.dirname(b.file), 'desktop-b2.crewvault'), keychain: b.keychain, env: b.env };
    await copyAsNewDesktop(b.file, b2.file, clock);
    clock.advance(1_000);
    const old = await asDeviceFromBefore(b2.file, await onDesktop(b2, (s) => Promise.resolve(signerOf(s))));
    clock.advance(1_000);
    await onDesktop(b2, async (s) => s.revealPassword((await s.resolvePath('Acme/Switch')).id));
    expect(await auditChainOf(b2.file, clock)).toMatchObject({ ok: true });

    // Someone with the file but not bob's key: his reveal of Switch now names Firewall (signature and hash left as they were).
    const file = new Database(b2.file);
    const firewall = file.prepare<[], { id: number; uid: Buffer }>("SELECT id, uid FROM entries WHERE id = (SELECT max(id) FROM entries WHERE deleted_at IS NULL AND group_id = (SELECT group_id FROM entries GROUP BY group_id HAVING count(*) = 2))").get();
    const switchRow = file.prepare<[Buffer], { id: number; entry_id: number }>('SELECT id, entry_id FROM audit_log WHERE device_id = ? AND entry_id IS NOT NULL ORDER BY id DESC LIMIT 1').get(old);
    if (firewall === undefined || switchRow === undefined) throw new Error('set-up: no Firewall or no reveal on the old chain');
    const target = switchRow.entry_id === firewall.id ? file.prepare<[number, number], { id: number; uid: Buffer }>('SELECT id, uid FROM entries WHERE id <> ? AND deleted_at IS NULL AND group_id = (SELECT group_id FROM entries WHERE id = ?)').get(firewall.id, firewall.id) : firewall;
    if (target === undefined) throw new Error('set-up: no other Ops entry');
    file.prepare('UPDATE audit_log SET entry_id = ? WHERE id = ?').run(target.id, switchRow.id);
    file.close();
    const before = { chain: (await auditChainOf(b2.file, clock)).ok, onOwner: bobsEventsOn(a.file, target.uid) };

    const out = await sync(b2);
    expect((await sync(a)).code).toBe('ok');
    // What should hold: the changed row is not signed as bob and never reaches the owner as his
    // (the sync refuses, or leaves that row unsigned and unsent). Fails: 'ok', the row re-signed, on the owner's desktop.
    expect({ before, code: out.code, onOwner: bobsEventsOn(a.file, target.uid) })
      .toEqual({ before, code: out.code, onOwner: before.onOwner });
  }, 180_000);

  it('control (passes): the same change on a desktop with a derived id is never taken in as bob\'s (its signature fails)', async () => {
    const { a, b, sync } = world;
    // bob reveals Switch on his own desktop (derived id), and the same hand changes that row to name Firewall.
    await world.onDesktop(b, async (s) => s.revealPassword((await s.resolvePath('Acme/Switch')).id));
    const file = new Database(b.file);
    const firewall = file.prepare<[], { id: number; uid: Buffer }>("SELECT id, uid FROM entries WHERE id = (SELECT max(id) FROM entries WHERE deleted_at IS NULL AND group_id = (SELECT group_id FROM entries GROUP BY group_id HAVING count(*) = 2))").get();
    const row = file.prepare<[], { id: number; entry_id: number }>("SELECT id, entry_id FROM audit_log WHERE action = 'password.reveal' ORDER BY id DESC LIMIT 1").get();
    if (firewall === undefined || row === undefined) throw new Error('set-up');
    const target = row.entry_id === firewall.id ? file.prepare<[number, number], { id: number; uid: Buffer }>('SELECT id, uid FROM entries WHERE id <> ? AND deleted_at IS NULL AND group_id = (SELECT group_id FROM entries WHERE id = ?)').get(firewall.id, firewall.id) : firewall;
    if (target === undefined) throw new Error('set-up');
    file.prepare('UPDATE audit_log SET entry_id = ? WHERE id = ?').run(target.id, row.id);
    file.close();
    const before = bobsEventsOn(a.file, target.uid);
    const out = await sync(b);
    await sync(a);
    expect({ refused: out.code !== 'ok' || bobsEventsOn(a.file, target.uid).length === before.length }).toEqual({ refused: true });
  }, 180_000);
});

