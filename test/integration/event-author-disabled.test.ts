/**
 * An event of a user disabled here (replica-service.ts takeEvent, electron/vault/event-author.ts,
 * docs/SYNC.md "Speed" step 8's second read): the events they signed before the disabling are the
 * vault's history and are taken, whichever order they and the disabling arrive in; one signed at
 * or after it is refused (set aside) either way. Real vault files exchanging records as JSON (as a
 * relay hands them): mo (a technician) reveals a password on his desktop, the owner disables him,
 * then mo, on his desktop that has not heard, reveals again. A new desktop takes the disabling
 * first (as a first sync's state comes before its history; here in the same batch, where people
 * records are taken before events), another the old order (mo's events, then the disabling, then
 * his later event). The first order refused mo's earlier events before this change.
 */
import { describe, expect, it } from 'vitest';
import { REPLICA_FORMAT, type ReplicaRecord } from '../../shared/sync/records';
import { Vault } from '../../electron/vault/vault';
import { eventsBy, hexOf, MEMBER, MEMBER_PASSWORD, newPeopleWorld, OWNER, PASSWORD, userState } from '../support/people-world';
import type { manualClock } from '../support/vault';


describe('events of a user disabled here', () => {
  it('are taken when signed before the disabling and refused after it, in either order', async () => {
    const world = await newPeopleWorld({
      people: [{ name: MEMBER, role: 'technician', password: MEMBER_PASSWORD }],
      members: [MEMBER],
      desktops: [
        { label: 'mo', name: MEMBER, password: MEMBER_PASSWORD }, { label: 'owner', name: OWNER, password: PASSWORD },
        { label: 'new-first', name: OWNER, password: PASSWORD }, { label: 'new-old-order', name: OWNER, password: PASSWORD },
      ],
    });
    const [moFile = '', ownerFile = '', firstFile = '', oldOrderFile = ''] = world.files;
    // The world's clock is newVault's manual one: moved by hand here.
    const clock = world.clock as ReturnType<typeof manualClock>;

    // mo reveals a password on his desktop (events signed before the disabling).
    clock.advance(60_000);
    const mo = await Vault.open(moFile, clock).signIn(MEMBER, MEMBER_PASSWORD);
    const entry = (await mo.listEntries())[0];
    if (!entry) throw new Error('mo sees no entry');
    await mo.revealPassword(entry.id);
    const vault = await mo.replica.vaultId();
    const before = (await mo.replica.outgoing()).batch.records.filter((r): r is Extract<ReplicaRecord, { kind: 'event' }> => r.kind === 'event' && r.actor !== null);
    await mo.close();
    expect(before.length).toBeGreaterThan(0);

    // The owner disables him.
    clock.advance(60_000);
    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    await owner.team.disableUser(MEMBER, await owner.team.userRevision(MEMBER));
    const disabling = (await owner.replica.outgoing()).batch.records.filter((r) => r.kind === 'user' && r.name === MEMBER && r.disabledAt !== null);
    await owner.close();
    expect(disabling).toHaveLength(1);

    // mo's desktop has not heard: he signs in and reveals again, after the disabling.
    clock.advance(60_000);
    const late = await Vault.open(moFile, clock).signIn(MEMBER, MEMBER_PASSWORD);
    await late.revealPassword(entry.id);
    const seen = new Set(before.map((e) => e.id));
    const after = (await late.replica.outgoing()).batch.records.filter((r): r is Extract<ReplicaRecord, { kind: 'event' }> => r.kind === 'event' && r.actor !== null && !seen.has(r.id));
    await late.close();
    expect(after.length).toBeGreaterThan(0);
    const batch = (records: readonly ReplicaRecord[]): unknown => JSON.parse(JSON.stringify({ format: REPLICA_FORMAT, vault, records })) as unknown;

    // The disabling first (one batch: its user record is taken before the events): the earlier events taken, the later refused.
    const first = await Vault.open(firstFile, clock).signIn(OWNER, PASSWORD);
    const taken = await first.replica.apply(batch([...disabling, ...before, ...after]), { hold: true, caughtUp: true });
    await first.close();
    expect(userState(firstFile, MEMBER)).toMatchObject({ disabled: true });
    expect(eventsBy(firstFile, MEMBER)).toEqual(expect.arrayContaining(before.map((e) => hexOf(e.id))));
    for (const e of after) expect(eventsBy(firstFile, MEMBER)).not.toContain(hexOf(e.id));
    const refused = taken.held.filter((h) => h.kind === 'event');
    expect(refused.map((h) => h.id).sort()).toEqual(after.map((e) => e.id).sort());
    expect(refused.every((h) => h.reason.includes('signed after the disabling'))).toBe(true);

    // The old order: mo's events, the disabling, then his later event.
    const old = await Vault.open(oldOrderFile, clock).signIn(OWNER, PASSWORD);
    expect((await old.replica.apply(batch(before), { hold: true, caughtUp: true })).held).toEqual([]);
    expect((await old.replica.apply(batch(disabling), { hold: true, caughtUp: true })).held).toEqual([]);
    const later = await old.replica.apply(batch(after), { hold: true, caughtUp: true });
    await old.close();
    expect(eventsBy(oldOrderFile, MEMBER)).toEqual(expect.arrayContaining(before.map((e) => hexOf(e.id))));
    for (const e of after) expect(eventsBy(oldOrderFile, MEMBER)).not.toContain(hexOf(e.id));
    expect(later.held.filter((h) => h.kind === 'event').map((h) => h.id).sort()).toEqual(after.map((e) => e.id).sort());
  });
});
