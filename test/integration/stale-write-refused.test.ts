// Every shared write of an entry names the revision it was made from, enforced in the vault
// (review round nine hole 5, #11/#13): an edit, a delete, an OTP removal and a move from a stale
// view are CONFLICT, one naming none is refused, whatever the door. The reviewer's two cases
// plus the rest of the class. Real vault files and router. Must never print a secret.
import { describe, expect, it } from 'vitest';
import { ENTRY_PASSWORD, Vault, errorCode, newRouter, ok, OWNER, PASSWORD } from '../support/review-nine';
describe('HOLE 5 (class: the CONFLICT rule is the door\'s choice — a write that names no base revision, and every move, are never stale)', () => {
  async function twoViews() {
    const { router, clock, vaultPath } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    const entry = ok(await router.call('entries.create', { customer: 'Acme', title: 'Firewall', username: 'admin', password: ENTRY_PASSWORD })) as { id: number; groupId: number };
    const restricted = ok(await router.call('groups.create', { name: 'Restricted' })) as { id: number };
    // The page's view of the entry, before someone else acts on it.
    const seen = ok(await router.call('entries.get', { id: entry.id })) as { revision: number; groupId: number };
    // Someone else, on the same file (another window or process of the vault).
    const elsewhere = Vault.open(vaultPath, clock);
    const other = await elsewhere.signIn(OWNER, PASSWORD);
    return { router, entry, restricted, seen, other, elsewhere };
  }

  it('an edit naming no base revision overwrites a newer change silently (the vault takes it; only the renderer chooses to name one)', async () => {
    const { router, entry, seen, other, elsewhere } = await twoViews();
    await other.updateEntry(entry.id, { username: 'changed-elsewhere' }, seen.revision);
    const reply = await router.call('entries.update', { id: entry.id, changes: { url: 'https://stale.example' } });
    await elsewhere.close();
    // Held: a write on shared state must say what it was based on (#13), or be refused.
    expect(errorCode(reply), 'an edit with no base revision was taken over a newer revision').not.toBe('ok');
  });

  it('a move made from a stale view puts back an entry someone had just moved into a restricted group (no base revision can be named)', async () => {
    const { router, entry, restricted, seen, other, elsewhere } = await twoViews();
    await other.team.moveEntry(entry.id, restricted.id, seen.revision);
    // The page still shows the entry in its old group; the lead "moves" it there, widening access again.
    const reply = await router.call('entries.move', { id: entry.id, groupId: seen.groupId, baseRevision: seen.revision });
    await elsewhere.close();
    expect(errorCode(reply), 'a move cannot be refused as stale').toBe('CONFLICT');
  });

  it('the rest of the class: a delete, an OTP removal and a move naming no revision are refused; stale ones are CONFLICT; the vault itself refuses a missing one', async () => {
    const { router, entry, restricted, seen, other, elsewhere } = await twoViews();
    expect(errorCode(await router.call('entries.delete', { id: entry.id }))).toBe('INVALID_INPUT');
    expect(errorCode(await router.call('entries.move', { id: entry.id, groupId: restricted.id }))).toBe('INVALID_INPUT');
    await other.updateEntry(entry.id, { notes: 'written elsewhere' }, seen.revision);
    expect(errorCode(await router.call('entries.delete', { id: entry.id, baseRevision: seen.revision }))).toBe('CONFLICT');
    expect(errorCode(await router.call('entries.update', { id: entry.id, baseRevision: seen.revision, changes: { otp: null } }))).toBe('CONFLICT');
    expect(errorCode(await router.call('entries.move', { id: entry.id, groupId: restricted.id, baseRevision: seen.revision }))).toBe('CONFLICT');
    // The vault, not only the contract: a caller inside the process that names none is refused.
    await expect(other.updateEntry(entry.id, { url: 'https://x.example' }, undefined as unknown as number)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(other.deleteEntry(entry.id, undefined as unknown as number)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(other.team.moveEntry(entry.id, restricted.id, undefined as unknown as number)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    // What was read now, sent back, is taken.
    const now = ok(await router.call('entries.get', { id: entry.id })) as { revision: number };
    ok(await router.call('entries.move', { id: entry.id, groupId: restricted.id, baseRevision: now.revision }));
    const moved = ok(await router.call('entries.get', { id: entry.id })) as { revision: number; groupId: number };
    expect(moved.groupId).toBe(restricted.id);
    ok(await router.call('entries.delete', { id: entry.id, baseRevision: moved.revision }));
    await elsewhere.close();
  });
});
