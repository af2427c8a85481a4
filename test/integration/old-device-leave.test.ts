/**
 * A 16-byte device id that wrote events before derived ids and never pushed them (docs/SYNC.md "Who
 * a device is", task 15): someone who learned it (a copy of the file) pushes a first event of their
 * own under it, and the server binds the device to them. Before, the real desktop's every sync was
 * then FORBIDDEN, for ever; now the desktop leaves the old id at its sync, before anything is pulled
 * or pushed (store-audit.ts leaveOldDevice): its events re-signed onto a derived id, the old one
 * never pushed. A file two people signed events on keeps its id and says so. Real server on PGlite
 * (loopback HTTP), real vault files and crypto, the real `crewvault` sync and audit verify.
 * Must never: sleep on the wall clock (the clock is injected), or print a key or password.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { uidText } from '../../electron/vault/ids';
import { signBytes, type Signer } from '../../electron/vault/signing';
import { storedEventBytes } from '../../electron/vault/store-audit';
import { derivesDevice } from '../../electron/vault/store-device';
import { Vault } from '../../electron/vault/vault';
import { REPLICA_FORMAT, type EventRecord } from '../../shared/sync/records';
import { eventSigningText } from '../../shared/sync/signing-keys';
import { signerOf } from '../support/desktop-copies';
import { copyAsNewDesktop } from '../support/replica';
import { BOB, BOB_PASSWORD, CAROL, CAROL_PASSWORD, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock, OWNER, PASSWORD } from '../support/vault';
import { auditChainOf, readOneRow } from '../support/vault-file-reads';

const clock = manualClock();
const world = useTeamDesktops('old-device-leave', clock);

type DeviceRow = { id: number; uid: Buffer; actor_id: number | null; device_id: Buffer | null; device_prev: Buffer | null; signature: Buffer | null };

function signedRows(file: string): DeviceRow[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], DeviceRow>('SELECT id, uid, actor_id, device_id, device_prev, signature FROM audit_log WHERE signature IS NOT NULL ORDER BY id').all();
  } finally {
    db.close();
  }
}

const userId = (file: string, name: string): number => readOneRow<{ id: number }>(file, 'SELECT id FROM users WHERE name = ?', name)?.id ?? -1;

/**
 * `file` as a desktop from before derived ids left it: every event written on its derived device
 * (made at its first sign-in since the copy) moved onto a random 16-byte id, each re-signed by
 * `signer` to chain from no link, the derived id forgotten and the 16-byte one this file's device.
 * What the old code wrote, by hand (no row's hash covers the device columns). Returns the 16-byte id.
 */
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
        link = createLink(signature);
      }
      w.prepare("DELETE FROM meta WHERE key = 'this_device_derived'").run();
      w.prepare('INSERT INTO this_device (id, device_id, created_at) VALUES (1, ?, 0)').run(old);
    });
  } finally {
    await opened.close();
  }
  return old;
}

/** SHA-256 of a signature: the next event's link (store-audit.ts deviceLink). */
const createLink = (signature: Buffer): Buffer => createHash('sha256').update(signature).digest();

describe('a 16-byte device id nothing handed on yet', () => {
  it('is left at the desktop\'s sync: a squatter who pushed under it first no longer wedges the real desktop, whose events land under a derived id', async () => {
    const { a, b, c, onDesktop, sync, cli, teamClient, server } = world;
    // bob's second desktop, a copy of his first, as a desktop from before derived ids: his events on a 16-byte id, never pushed.
    const b2: Desktop = { name: 'b2', person: 'bob', file: path.join(path.dirname(b.file), 'desktop-b2.crewvault'), keychain: b.keychain, env: b.env };
    await copyAsNewDesktop(b.file, b2.file, clock);
    clock.advance(1_000);
    const bobSigner = await onDesktop(b2, (s) => Promise.resolve(signerOf(s)));
    const old = await asDeviceFromBefore(b2.file, bobSigner);
    clock.advance(1_000);
    await onDesktop(b2, async (s) => s.revealPassword((await s.resolvePath('Acme/Switch')).id));
    const bob = userId(b2.file, BOB);
    const onOld = signedRows(b2.file).filter((r) => r.device_id?.equals(old) === true);
    expect(onOld.length).toBeGreaterThanOrEqual(3);
    expect(onOld.every((r) => r.actor_id === bob)).toBe(true);
    expect(await auditChainOf(b2.file, clock)).toMatchObject({ ok: true });

    // carol learned the id (a copy of bob's file) and pushes a first event of her own under it: the server binds it to her.
    const vault = await onDesktop(c, (s) => s.replica.vaultId());
    const squat = await onDesktop(c, (s) => {
      const signer = signerOf(s);
      const carolUid = uidText(readOneRow<{ uid: Buffer }>(c.file, 'SELECT uid FROM users WHERE name = ?', CAROL)?.uid ?? Buffer.alloc(0));
      const unsigned: EventRecord = {
        kind: 'event', id: randomUUID(), at: clock.now(), actor: carolUid, action: 'signin.ok', subject: null, entry: null, customer: null, group: null,
        sealedDetail: null, device: old.toString('base64url'), devicePrev: null, signerKey: uidText(signer.keyUid), signature: null,
      };
      const text = eventSigningText(vault, { uid: unsigned.id, at: unsigned.at, actor: carolUid, action: unsigned.action, subject: null, entry: null, customer: null, group: null, sealedDetailBase64: null, deviceHex: old.toString('hex'), devicePrevHex: null, signerKey: unsigned.signerKey });
      return Promise.resolve({ ...unsigned, signature: signBytes(signer.privateKey, Buffer.from(text, 'utf8')).toString('base64url') });
    });
    const pushed = await (await teamClient(c)).call('syncPush', { batch: { format: REPLICA_FORMAT, vault, records: [squat] } });
    expect(pushed.accepted).toBe(1);

    // bob's desktop syncs: before, FORBIDDEN (the device was carol's), at every sync after. Now its events go under a derived id.
    const out = await sync(b2);
    expect(out.code, out.stderr).toBe('ok');
    expect(out.stdout).toContain(`re-signed onto an id derived from your key`);
    const after = signedRows(b2.file);
    const moved = after.filter((r) => onOld.some((o) => o.id === r.id));
    const device = moved[0]?.device_id ?? Buffer.alloc(0);
    expect(device).toHaveLength(32);
    expect(moved.every((r) => r.device_id?.equals(device) === true)).toBe(true);
    const bobsKey = readOneRow<{ public_key: Buffer }>(b2.file, 'SELECT k.public_key FROM users u JOIN signing_keys k ON k.id = u.signing_key_id WHERE u.name = ?', BOB)?.public_key ?? Buffer.alloc(0);
    expect(derivesDevice(vault, device, bobsKey, moved[0]?.device_prev ?? Buffer.alloc(0))).toBe(true);
    // carol's squat came in on the old id as her device, and bob's file is that device no more.
    expect(after.filter((r) => r.device_id?.equals(old) === true).map((r) => r.actor_id)).toEqual([userId(b2.file, CAROL)]);
    expect(await auditChainOf(b2.file, clock)).toMatchObject({ ok: true });
    // A second sync leaves nothing more, and says nothing of it.
    const again = await sync(b2);
    expect(again.code, again.stderr).toBe('ok');
    expect(again.stdout).not.toContain('device id from before');

    // Converged: the owner's desktop holds bob's events under the derived id, and the server's whole history verifies.
    expect((await sync(a)).code).toBe('ok');
    const owners = signedRows(a.file);
    for (const o of onOld) expect(owners.find((r) => r.uid.equals(o.uid))?.device_id?.equals(device), `event ${o.id}`).toBe(true);
    const verified = await cli(a, ['audit', 'verify', '--server', server.url, '--vault', a.file, '--user', OWNER], [PASSWORD]);
    expect(verified.stdout).toMatch(/Audit history on .* intact/);
    const onB2 = await cli(b2, ['audit', 'verify', '--server', server.url, '--vault', b2.file, '--user', BOB], [BOB_PASSWORD]);
    expect(onB2.stdout).toMatch(/Audit history on .* intact/);
  }, 180_000);

  it('a file two people signed events on keeps its 16-byte id (another\'s event cannot be re-signed), says so in one line, and pushes it as before', async () => {
    const { b, onDesktop, sync } = world;
    const b3: Desktop = { name: 'b3', person: 'bob', file: path.join(path.dirname(b.file), 'desktop-b3.crewvault'), keychain: b.keychain, env: b.env };
    await copyAsNewDesktop(b.file, b3.file, clock);
    clock.advance(1_000);
    const old = await asDeviceFromBefore(b3.file, await onDesktop(b3, (s) => Promise.resolve(signerOf(s))));
    clock.advance(1_000);
    await (await Vault.open(b3.file, clock).signIn(CAROL, CAROL_PASSWORD)).close();
    const people = new Set(signedRows(b3.file).filter((r) => r.device_id?.equals(old) === true).map((r) => r.actor_id));
    expect(people.size).toBe(2);
    const out = await sync(b3);
    expect(out.code, out.stderr).toBe('ok');
    const told = out.stdout.split('\n').filter((line) => line.includes('device id from before derived ids'));
    expect(told).toEqual([expect.stringContaining('keeps its events (2 people signed on it') as unknown]);
    expect(signedRows(b3.file).filter((r) => r.device_id?.equals(old) === true).length).toBeGreaterThanOrEqual(3);
    // Pushed now: the hole closed with it, and the next sync says nothing.
    expect((await sync(b3)).stdout).not.toContain('device id from before');
  }, 120_000);

  it('is kept once a push offered its events (the reply may have been lost with the server holding them) or a direct exchange handed them on', async () => {
    const { b, onDesktop } = world;
    for (const handedOn of ['offered to a push', 'sent by direct exchange'] as const) {
      const d: Desktop = { name: 'b4', person: 'bob', file: path.join(path.dirname(b.file), `desktop-b4-${handedOn.length}.crewvault`), keychain: b.keychain, env: b.env };
      await copyAsNewDesktop(b.file, d.file, clock);
      clock.advance(1_000);
      const old = await asDeviceFromBefore(d.file, await onDesktop(d, (s) => Promise.resolve(signerOf(s))));
      const left = await onDesktop(d, async (s) => {
        const out = await s.replica.outgoing(false, true);
        expect(out.batch.records.some((r) => r.kind === 'event' && r.device === old.toString('base64url'))).toBe(true);
        if (handedOn === 'offered to a push') await s.replica.pushing(out);
        else await s.replica.markSent(out);
        return s.replica.leaveOldDevice();
      });
      expect(left, handedOn).toEqual({ left: 'none' });
      expect(signedRows(d.file).filter((r) => r.device_id?.equals(old) === true).length, handedOn).toBeGreaterThan(0);
    }
  });
});
