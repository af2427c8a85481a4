/**
 * Who a device is, on desktops (#15, docs/SYNC.md "Who a device is"): a device id made now is
 * derived from its first signer's key and a birth value its first event carries
 * (electron/vault/store-device.ts), and a desktop takes a chain start on such an id only from the
 * person whose key derives it (store-audit.ts appendReceivedEvent, verifyAuditChain). A vault from
 * before (a schema 19 fixture, test/fixtures) keeps its 16-byte device and chain. Real vault
 * files, real crypto, the replica's own apply (what a pull hands it).
 * Must never: sleep on the wall clock (the clock is injected), or change a fixture (works on copies).
 */
import { copyFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { eventRecordSigningText as eventFields } from '../../electron/vault/audit-event-texts';
import { signBytes, type Signer } from '../../electron/vault/signing';
import { derivesDevice } from '../../electron/vault/store-device';
import { Vault } from '../../electron/vault/vault';
import { REPLICA_FORMAT, type EventRecord } from '../../shared/sync/records';
import { eventSigningText } from '../../shared/sync/signing-keys';
import { copyAsDevice, signerOf } from '../support/desktop-copies';
import { FAST_KDF, manualClock, newVault, OWNER, PASSWORD, tempFolder } from '../support/vault';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');
const TOM_PASSWORD = 'tom password';

const linkOf = (signature: string | null): string => createHash('sha256').update(Buffer.from(signature ?? '', 'base64url')).digest('base64url');

/** `e` with device and first link as given, signed again by `signer` in `vault`. */
function resigned(e: EventRecord, signer: Signer, vault: string, device: string, devicePrev: string | null): EventRecord {
  const unsigned: EventRecord = { ...e, device, devicePrev, signerKey: e.signerKey };
  return { ...unsigned, signature: signBytes(signer.privateKey, Buffer.from(eventSigningText(vault, eventFields(unsigned)), 'utf8')).toString('base64url') };
}

/** The audit rows' devices and first links, as the file holds them. */
function rowsOf(file: string): Array<{ device_id: Buffer | null; device_prev: Buffer | null; actor_id: number | null }> {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], { device_id: Buffer | null; device_prev: Buffer | null; actor_id: number | null }>('SELECT device_id, device_prev, actor_id FROM audit_log WHERE signature IS NOT NULL ORDER BY id').all();
  } finally {
    db.close();
  }
}

/**
 * A vault with alice (owner) and tom (technician, signed in once so his key is everywhere), a
 * receiver copy, and a source copy that alice then tom sign in on: one device, alice's derived id.
 */
async function setUp() {
  const clock = manualClock();
  const { file, session } = await newVault(clock);
  await session.createUser('tom', 'technician', TOM_PASSWORD, FAST_KDF);
  const vault = await session.replica.vaultId();
  await session.close();
  await (await Vault.open(file, clock).signIn('tom', TOM_PASSWORD)).close();
  const receiver = await copyAsDevice(file, 'receiver', clock);
  const source = await copyAsDevice(file, 'source', clock);
  clock.advance(60_000);
  const alice = await Vault.open(source, clock).signIn(OWNER, PASSWORD);
  const aliceSigner = signerOf(alice);
  await alice.close();
  clock.advance(60_000);
  const tom = await Vault.open(source, clock).signIn('tom', TOM_PASSWORD);
  const tomSigner = signerOf(tom);
  const all = (await tom.replica.outgoing(true)).batch.records.filter((r): r is EventRecord => r.kind === 'event');
  await tom.close();
  const device = all.at(-1)?.device ?? null;
  const chain = all.filter((r) => r.device === device);
  const r = await Vault.open(receiver, clock).signIn(OWNER, PASSWORD);
  await r.replica.agreeAll();
  const batch = (records: readonly EventRecord[]) => ({ format: REPLICA_FORMAT, vault, records });
  return { vault, source, chain, receiver: r, aliceSigner, tomSigner, batch };
}

describe('who a device is, on desktops', () => {
  it('a new file\'s device is derived from its first signer\'s key; a second person signing in on it continues its chain, and a desktop takes it', async () => {
    const { vault, source, chain, receiver, batch } = await setUp();
    const rows = rowsOf(source);
    const own = rows.filter((r) => r.device_id !== null && r.device_id.equals(Buffer.from(chain[0]?.device ?? '', 'base64url')));
    const [first] = own;
    if (first?.device_id === undefined || first.device_id === null || first.device_prev === null) throw new Error('no derived chain start');
    expect(first.device_id).toHaveLength(32);
    // The first event carries the birth value deriving the id from alice's key (her key is the first signer's).
    const db = new Database(source, { readonly: true });
    const alicesKey = db.prepare<[], { public_key: Buffer }>("SELECT k.public_key FROM users u JOIN signing_keys k ON k.id = u.signing_key_id WHERE u.name = 'alice'").get()?.public_key;
    db.close();
    expect(derivesDevice(vault, first.device_id, alicesKey ?? Buffer.alloc(0), first.device_prev)).toBe(true);
    // Both people's events on the one device.
    expect(new Set(own.map((r) => r.actor_id)).size).toBe(2);
    const taken = await receiver.replica.apply(batch(chain), { hold: true });
    expect([taken.applied, taken.held]).toEqual([chain.length, []]);
    expect((await receiver.verifyAuditLog()).chain).toMatchObject({ ok: true });
    await receiver.close();
  });

  it('refuses a squatted chain start: another member\'s event on the id with no link or with the real birth value, and a wrong birth value; the real chain is then taken', async () => {
    const { vault, chain, receiver, tomSigner, aliceSigner, batch } = await setUp();
    const [first, ...rest] = chain;
    const tomsOwn = chain.find((e) => e.signerKey !== first?.signerKey);
    if (first === undefined || first.device === null || first.devicePrev === null || tomsOwn === undefined) throw new Error('no chain');
    const rows = (await receiver.auditLog(100_000)).length;
    const squats = [
      resigned(tomsOwn, tomSigner, vault, first.device, null),
      resigned(tomsOwn, tomSigner, vault, first.device, first.devicePrev),
      resigned(first, aliceSigner, vault, first.device, randomBytes(32).toString('base64url')),
    ];
    for (const squat of squats) {
      const outcome = await receiver.replica.apply(batch([squat]), { hold: true });
      expect(outcome.applied).toBe(0);
      expect(outcome.held[0]?.reason).toMatch(/without the birth value|does not derive/);
      expect(outcome.held[0]?.reason.split('\n')).toHaveLength(1);
    }
    expect(squats.map((s) => s.device === first.device)).toEqual([true, true, true]);
    expect((await receiver.auditLog(100_000)).length).toBe(rows);
    const taken = await receiver.replica.apply(batch([first, ...rest]), { hold: true });
    expect([taken.applied, taken.held]).toEqual([chain.length, []]);
    // and tom's event after it on alice's device, signed to follow, is a second signer's: taken as before.
    expect((await receiver.verifyAuditLog()).chain).toMatchObject({ ok: true });
    expect(linkOf(chain.at(-2)?.signature ?? null)).toBe(chain.at(-1)?.devicePrev);
    await receiver.close();
  });

  it('a vault from before (schema 19) keeps its 16-byte device: new events continue its chain and the log verifies', async () => {
    const clock = manualClock(Date.UTC(2027, 0, 1));
    const file = path.join(tempFolder(), 'schema19.crewvault');
    copyFileSync(path.join(FIXTURES, 'schema19-team.crewvault'), file);
    const before = rowsOf(file);
    const device = before.at(-1)?.device_id;
    expect(device).toHaveLength(16);
    const alice = await Vault.open(file, clock).signIn('alice', 'alice password');
    await alice.createEntries([{ customer: 'Acme', title: 'Switch', password: 'sw-1' }]);
    expect((await alice.verifyAuditLog()).chain).toMatchObject({ ok: true });
    await alice.close();
    const after = rowsOf(file).slice(before.length);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((r) => r.device_id !== null && device !== undefined && device !== null && r.device_id.equals(device) && r.device_prev !== null)).toBe(true);
  });
});
