// A pulled page as large as a first sync's (#15, docs/SYNC.md "Speed"): enough signatures for
// the worker threads (replica-verify.ts), events among them, chained with one move of the log's
// head and keyed anchor after the last. What must hold: an event changed after it was signed is
// refused all the same (or set aside, with the events of its device after it); the log then
// verifies, head and anchor at the last event actually chained, also after records set aside
// are taken in later; and the bytes an event's signature is checked over ahead are the very
// bytes the log holds (else the check ahead would never be used).
// Real vault files, real Ed25519, real worker threads; no mocks.
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReplicaBatch } from '../../shared/sync/records';
import type { VaultSession } from '../../electron/vault/service';
import { receivedEventBytes } from '../../electron/vault/replica-service';
import { storedEventBytes } from '../../electron/vault/store-audit';
import { renewDeviceId } from '../../electron/vault/store-signing';
import { Vault } from '../../electron/vault/vault';
import { manualClock, newVault, OWNER, PASSWORD, tempFolder } from '../support/vault';

/** Entries in the page: with their events and customers, well past the 64 signatures the workers take. */
const ENTRIES = 40;

async function desktops() {
  const clock = manualClock();
  const { file, session } = await newVault(clock);
  await session.close();
  const copy = path.join(tempFolder(), 'desktop-b.crewvault');
  copyFileSync(file, copy);
  const opened = Vault.open(copy, clock);
  await opened.store.write((w) => renewDeviceId(w));
  await opened.close();
  const a = await Vault.open(file, clock).signIn(OWNER, PASSWORD);
  const b = await Vault.open(copy, clock).signIn(OWNER, PASSWORD);
  await a.replica.agreeAll();
  await b.replica.agreeAll();
  await a.createEntries(Array.from({ length: ENTRIES }, (_, i) => ({ customer: i % 2 === 0 ? 'Acme' : 'Globex', title: `Account ${i}`, password: `pw-${i}` })));
  return { a, b, fileB: copy, clock };
}

async function audit(session: VaultSession) {
  const { chain, anchor } = await session.verifyAuditLog();
  return { chain: chain.ok, anchor: anchor.ok };
}

function events(batch: ReplicaBatch) {
  return batch.records.filter((r) => r.kind === 'event');
}

describe('a large pulled page', () => {
  it('refuses an event changed after it was signed, and chains the rest with the head and anchor at the last', async () => {
    const { a, b, fileB, clock } = await desktops();
    const out = await a.replica.outgoing();
    const own = events(out.batch).filter((e) => e.action === 'entry.create');
    expect(own.length).toBe(ENTRIES);
    const changed = own[10];
    if (!changed) throw new Error('no event to change');
    const tampered: ReplicaBatch = { ...out.batch, records: out.batch.records.map((r) => (r.kind === 'event' && r.id === changed.id ? { ...r, at: r.at + 1 } : r)) };
    const wire = (batch: ReplicaBatch): unknown => JSON.parse(JSON.stringify(batch)) as unknown;

    // All or nothing: refused, nothing taken in.
    await expect(b.replica.apply(wire(tampered))).rejects.toThrow(expect.objectContaining({ code: 'VAULT_TAMPERED' }));
    expect((await b.listEntries()).length).toBe(0);
    expect(await audit(b)).toEqual({ chain: true, anchor: true });

    // Set aside as a server's pull is: the entries come in; the changed event and its device's later ones wait.
    const held = await b.replica.apply(wire(tampered), { hold: true });
    expect((await b.listEntries()).length).toBe(ENTRIES);
    const heldEvents = held.held.filter((h) => h.kind === 'event').map((h) => h.id);
    expect(heldEvents).toContain(changed.id);
    expect(heldEvents).toEqual(events(out.batch).slice(events(out.batch).indexOf(changed)).map((e) => e.id));
    expect(await audit(b)).toEqual({ chain: true, anchor: true });

    // The untouched page: what was set aside is replaced and chained; the log ends at the last event.
    const again = await b.replica.apply(wire(out.batch), { hold: true });
    expect(again.held).toEqual([]);
    expect(await audit(b)).toEqual({ chain: true, anchor: true });
    // The next sign-in there finds the keyed anchor where the last writer left it.
    b.lock();
    const back = await Vault.open(fileB, clock).signIn(OWNER, PASSWORD);
    expect(back.auditAnchorAtSignIn).toMatchObject({ ok: true });
    await back.close();
    await a.close();
    await b.close();
  });

  it('checks each event ahead over the very bytes its log row is verified over', async () => {
    const { a, b, fileB } = await desktops();
    const out = await a.replica.outgoing();
    await b.replica.apply(JSON.parse(JSON.stringify(out.batch)) as unknown);
    const reader = Vault.open(fileB);
    try {
      const pairs = await reader.store.read((r) => events(out.batch).map((e) => {
        const row = r.prepare<[Buffer], { id: number }>('SELECT id FROM audit_log WHERE uid = ?').get(Buffer.from(e.id.replaceAll('-', ''), 'hex'));
        if (!row) throw new Error(`event ${e.id} was not chained`);
        const ahead = receivedEventBytes(out.batch.vault, e);
        return { ahead, stored: storedEventBytes(r, row.id) };
      }));
      expect(pairs.length).toBeGreaterThan(ENTRIES - 1);
      for (const { ahead, stored } of pairs) expect(ahead.equals(stored)).toBe(true);
    } finally {
      await reader.close();
      await a.close();
      await b.close();
    }
  });
});
