/**
 * Received audit events signed in the old form (v1: no vault named, from before review round
 * seven hole 4's fix) are taken on a desktop only where the team server's rule takes them
 * (server/sync/verify.ts; electron/vault/store-audit.ts v1ChainStartsOpen): continuing a device
 * chain the desktop holds, or starting one only before the desktop caught up with the server (the
 * vault's move arrives before the server's head). A v1 event names no vault, so another vault's
 * sharing user ids and keys (a copy of one file moved as two) is the very record made here:
 * desktop C, a copy of the vault's file, signs events on a device of its own, re-signed in the v1
 * form with its author's key. Real vault files, real crypto, the replica's own apply (what a pull
 * hands it, with `caughtUp` as sync.ts passes it on a pull's last page).
 * Must never: sleep on the wall clock (the clock is injected).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { eventRecordSigningText as eventFields } from '../../electron/vault/audit-event-texts';
import type { VaultSession } from '../../electron/vault/service';
import { signBytes, type Signer } from '../../electron/vault/signing';
import { Vault } from '../../electron/vault/vault';
import { REPLICA_FORMAT, type EventRecord } from '../../shared/sync/records';
import { eventSigningTextV1 } from '../../shared/sync/signing-keys';
import { copyAsDevice, signerOf } from '../support/desktop-copies';
import { manualClock, newVault, OWNER, PASSWORD } from '../support/vault';

/** `events` (one device's chain, in order) signed again in the v1 form by `signer`, each linked to the one before. */
function resignedV1(events: readonly EventRecord[], signer: Signer, startAfter: EventRecord | null): EventRecord[] {
  // A chain's first event keeps its own link: the birth value of a derived device id (store-device.ts).
  let prev = startAfter === null ? (events[0]?.devicePrev ?? null) : createHash('sha256').update(Buffer.from(startAfter.signature ?? '', 'base64url')).digest('base64url');
  return events.map((e) => {
    const unsigned: EventRecord = { ...e, devicePrev: prev };
    const signature = signBytes(signer.privateKey, Buffer.from(eventSigningTextV1(eventFields(unsigned)), 'utf8')).toString('base64url');
    prev = createHash('sha256').update(Buffer.from(signature, 'base64url')).digest('base64url');
    return { ...unsigned, signature };
  });
}

async function setUp() {
  const clock = manualClock();
  const { file, session } = await newVault(clock);
  await session.createEntries([{ customer: 'Acme', title: 'Router', password: 'rt-1' }]);
  const vault = await session.replica.vaultId();
  await session.close();
  const receiver = await copyAsDevice(file, 'receiver', clock);
  const fresh = await copyAsDevice(file, 'fresh', clock);
  const source = await copyAsDevice(file, 'source', clock);
  // The source desktop signs three events on its own device (three sign-ins), then hands them on re-signed as v1.
  let signer: Signer | undefined;
  for (let i = 0; i < 3; i++) {
    clock.advance(60_000);
    const c = await Vault.open(source, clock).signIn(OWNER, PASSWORD);
    signer = signerOf(c);
    await c.close();
  }
  const c = await Vault.open(source, clock).signIn(OWNER, PASSWORD);
  const all = (await c.replica.outgoing(true)).batch.records.filter((r): r is EventRecord => r.kind === 'event');
  // The source's own device: the one its newest sign-in names (not the original file's, which every copy holds).
  const device = all.at(-1)?.device;
  const own = all.filter((r) => r.device === device);
  await c.close();
  if (signer === undefined) throw new Error('no signer');
  expect(own.length).toBeGreaterThanOrEqual(3);
  const v1 = resignedV1(own, signer, null);
  const open = async (f: string): Promise<VaultSession> => {
    const s = await Vault.open(f, clock).signIn(OWNER, PASSWORD);
    await s.replica.agreeAll();
    return s;
  };
  const batch = (records: readonly EventRecord[]) => ({ format: REPLICA_FORMAT, vault, records });
  return { receiver: await open(receiver), fresh: await open(fresh), v1, batch };
}

describe('a desktop takes v1 events only where the server would', () => {
  it('refuses a v1 event starting a device chain once it has caught up with the server (a relay replaying another vault\'s events)', async () => {
    const { receiver, v1, batch } = await setUp();
    await receiver.replica.apply(batch([]), { hold: true, caughtUp: true });
    const rows = (await receiver.auditLog(100_000)).length;
    const outcome = await receiver.replica.apply(batch(v1), { hold: true });
    expect(outcome.applied).toBe(0);
    expect(outcome.held.map((h) => h.reason)).toEqual(v1.map(() => expect.stringMatching(/old form that names no vault and starts a device chain|does not follow the last event/) as unknown));
    expect(outcome.held[0]?.reason).toMatch(/old form that names no vault and starts a device chain after this desktop caught up/);
    expect(outcome.held[0]?.reason.split('\n')).toHaveLength(1);
    expect((await receiver.auditLog(100_000)).length).toBe(rows);
    await receiver.close();
  });

  it('takes the vault\'s move (v1 chains before it caught up) and a v1 event continuing a chain it holds after', async () => {
    const { fresh, v1, batch } = await setUp();
    const [first, second, ...rest] = v1;
    if (first === undefined || second === undefined) throw new Error('too few events');
    const moved = await fresh.replica.apply(batch([first]), { hold: true });
    expect([moved.applied, moved.held]).toEqual([1, []]);
    await fresh.replica.apply(batch([]), { hold: true, caughtUp: true });
    // A pre-update desktop's backlog: continues the chain held here, taken after the cut-over too.
    const backlog = await fresh.replica.apply(batch([second, ...rest]), { hold: true });
    expect([backlog.applied, backlog.held]).toEqual([v1.length - 1, []]);
    expect((await fresh.verifyAuditLog()).chain).toMatchObject({ ok: true });
    await fresh.close();
  });
});
