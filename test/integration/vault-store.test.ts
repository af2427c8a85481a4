/**
 * The store boundary (electron/vault/store.ts, docs/STORE.md): every write answers with its
 * change set, and a check runs in the same transaction as the act it guards — so a store whose
 * calls take their turn later (a worker's, a server's: here the real SQLite store, each call
 * held back to the next turn of the event loop) cannot let a call act on a check made before
 * something changed. Real vault files and real crypto; only the timing of each call differs.
 * Must never pass if the check ran at call time and the act at the store's turn.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { ReadDb, WriteDb } from '../../electron/vault/db';
import { SqliteVaultStore, type StoreWrite, type VaultStore } from '../../electron/vault/store';
import { Vault } from '../../electron/vault/vault';
import { FAST_KDF, newVault, OWNER, PASSWORD } from '../support/vault';

/** The SQLite store, each call taking its turn only after the current one ends. */
class LaterStore implements VaultStore {
  private readonly inner: SqliteVaultStore;

  constructor(file: string) {
    this.inner = SqliteVaultStore.open(file);
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  async read<T>(work: (r: ReadDb) => T): Promise<T> {
    await nextTurn();
    return this.inner.read(work);
  }

  async write<T>(work: (w: WriteDb) => T): Promise<StoreWrite<T>> {
    await nextTurn();
    return this.inner.write(work);
  }

  async snapshotInto(file: string): Promise<void> {
    await nextTurn();
    return this.inner.snapshotInto(file);
  }

  async checkpoint(): Promise<void> {
    await nextTurn();
    return this.inner.checkpoint();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('the store boundary', () => {
  it('answers every write with what it changed, by global id, and the session keeps the last', async () => {
    const { session } = await newVault();
    const created = await session.createEntry({ customer: 'Acme', title: 'VPN', password: 'vpn-1' });
    const changes = session.lastChanges();
    expect(changes.toSeq).toBeGreaterThan(changes.fromSeq);
    expect(changes.objects.map((o) => o.kind).sort()).toEqual(['customer', 'entry']);
    expect(changes.events).toHaveLength(1);
    await session.updateEntry(created.id, { notes: 'rotated' }, created.revision ?? -1);
    expect(session.lastChanges().objects).toEqual([expect.objectContaining({ kind: 'entry', revision: 2, deleted: false })]);
    // A read changes nothing, and leaves the last write's set as it was.
    await session.listEntries();
    expect(session.lastChanges().objects).toEqual([expect.objectContaining({ kind: 'entry', revision: 2 })]);
    await session.close();
  });

  it('a person disabled after their call but before its turn writes nothing: the check is in the write', async () => {
    const { file, session: owner, clock } = await newVault();
    await owner.createUser('tom', 'technician', 'tom one-time', FAST_KDF);
    const later = Vault.over(new LaterStore(file), clock);
    const tom = await later.signIn('tom', 'tom one-time');
    await tom.changePassword(undefined, 'tom own password', FAST_KDF);

    // Tom asks; before the store takes his call, the owner disables him (her store acts at once).
    const asked = tom.createEntry({ customer: 'Acme', title: 'Planted', password: 'x' });
    await owner.team.disableUser('tom', await owner.team.userRevision('tom'));
    await expect(asked).rejects.toMatchObject({ code: 'LOCKED' });
    expect((await owner.listEntries()).map((e) => e.title)).not.toContain('Planted');
    expect((await owner.auditLog()).filter((r) => r.action === 'entry.create')).toEqual([]);
    await later.close();
    await owner.close();
  });

  it('a call whose session locks before its turn writes nothing', async () => {
    const { file, session: owner, clock } = await newVault();
    await owner.close();
    const later = Vault.over(new LaterStore(file), clock);
    const session = await later.signIn(OWNER, PASSWORD);
    const asked = session.createEntry({ customer: 'Acme', title: 'After the lock', password: 'x' });
    session.lock();
    await expect(asked).rejects.toMatchObject({ code: 'LOCKED' });
    const again = await later.signIn(OWNER, PASSWORD);
    expect(await again.listEntries()).toEqual([]);
    await later.close();
  });

  it('a revoked member\'s reveal, asked before the revoke took its turn, opens nothing', async () => {
    const { file, session: owner, clock } = await newVault();
    const group = await owner.team.createGroup('Acme team');
    await owner.createUser('tom', 'technician', 'tom one-time', FAST_KDF);
    await owner.team.grant(group.id, 'tom', false, await owner.team.groupRevision(group.id));
    const entry = await owner.createEntry({ customer: 'Acme', title: 'Firewall', password: 'fw-secret', groupId: group.id });
    const later = Vault.over(new LaterStore(file), clock);
    const tom = await later.signIn('tom', 'tom one-time');
    await tom.changePassword(undefined, 'tom own password', FAST_KDF);
    expect(await tom.revealPassword(entry.id)).toBe('fw-secret');

    const asked = tom.revealPassword(entry.id);
    await owner.team.revoke(group.id, 'tom', await owner.team.memberRevision(group.id, 'tom'));
    // His keys are read again in the reveal's own transaction: the group is gone from them.
    await expect(asked).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await owner.auditLog()).filter((r) => r.action === 'password.reveal')).toHaveLength(1);
    await later.close();
    await owner.close();
  });
});
