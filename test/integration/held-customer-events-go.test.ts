/**
 * A new customer its maker's role may no longer send holds back none of her later audit events (an
 * open item of #15). carol makes the customer Globex and an entry of it while her custom role Tech may
 * add entries; the owner narrows Tech to view only (neither entries.create nor entries.edit) before
 * she syncs. Her customer record still goes and every receiver sets it aside ("adds a customer its
 * sender may not"); before, the event of the entry's making, naming that customer, was set aside too,
 * and every later event of her device's chain with it (each names the one before): the owner never
 * saw her reveals, for as long as the role stayed narrowed. Expected: the owner takes the event (the
 * customer held there as an emptied tombstone named only, as an entry is: replica-service.ts
 * namedOnlyCustomer) and her reveal after it; no name shows; once the role allows it again, the
 * customer's record and the entry's are taken in over the tombstones and the owner's whole history verifies.
 * A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync
 * (test/support/team-desktops.ts). Must never put a password in a process argument.
 */
import { describe, expect, it } from 'vitest';
import { setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { carolNarrowed, TECH, VIEW } from '../support/carol-narrowed';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 8, 1, 0, 0));
const team = useTeamDesktops('crewvault-held-customer-events', clock);
const { a, b, c, onDesktop, answer } = team;
const { carolTech, carolsEvents, passwordOn, historyOf, customersOn, carolMakesThenNarrowed, carolRevealsRouter } = carolNarrowed(team, clock);


describe('carol\'s new customer waits after her role lost both entries.create and entries.edit', () => {
  it('her later reveal still reaches the owner, and the customer is taken in over its tombstone once the role allows it', async () => {
    await carolTech();
    await carolMakesThenNarrowed('Globex', 'Globex NAS', 'nas-1', VIEW);
    await carolRevealsRouter();
    expect(await answer(a)).toBe('ok');
    // Only her customer's record waits on the owner's desktop (her role may not add it), none of her events.
    expect(setAsideOn(a)).toEqual([expect.stringContaining('adds a customer its sender may not')]);
    expect(await carolsEvents(a, 'password.reveal', 'Router'), 'carol\'s reveal of Router in the owner\'s log').toBe(1);
    expect(await carolsEvents(a, 'entry.create', 'Globex NAS'), 'carol\'s making of Globex NAS in the owner\'s log').toBe(1);
    // The tombstone names nothing: no customer without a name is listed, nor the entry.
    expect(await customersOn(a)).toEqual(['Acme']);
    expect(await passwordOn(a, 'Globex NAS')).toBeUndefined();
    expect(await passwordOn(c, 'Globex NAS')).toBe('nas-1');
    expect(await onDesktop(a, async (s) => (await s.verifyAuditLog()).chain)).toMatchObject({ ok: true });
    // Bob, a member of the group, takes them too (his role reads no audit log: his file's history is checked whole).
    expect(await answer(b)).toBe('ok');
    expect(setAsideOn(b)).toEqual([expect.stringContaining('adds a customer its sender may not')]);
    expect(await customersOn(b)).toEqual(['Acme']);
    expect(await historyOf(b)).toMatchObject({ ok: true });
    // Her role may add entries again: the customer's record (retried) and the entry's are taken in over the tombstones.
    await onDesktop(a, async (s) => s.team.defineRole('Tech', TECH, await s.team.roleRevision('Tech')));
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    expect(await answer(a)).toBe('ok');
    expect(setAsideOn(a)).toEqual([]);
    expect(await customersOn(a)).toEqual(['Acme', 'Globex']);
    expect(await passwordOn(a, 'Globex NAS')).toBe('nas-1');
    expect(await carolsEvents(a, 'password.reveal', 'Router')).toBe(1);
    expect(await carolsEvents(a, 'entry.create', 'Globex NAS')).toBe(1);
    expect(await onDesktop(a, async (s) => (await s.verifyAuditLog()).chain)).toMatchObject({ ok: true });
    expect(await answer(b)).toBe('ok');
    expect(setAsideOn(b)).toEqual([]);
    expect(await customersOn(b)).toEqual(['Acme', 'Globex']);
    expect(await passwordOn(b, 'Globex NAS')).toBe('nas-1');
    expect(await historyOf(b)).toMatchObject({ ok: true });
  });

  it('a desktop holding its own unsent customer of that name keeps her events waiting, and its customer joins hers once her role allows it', async () => {
    await onDesktop(a, async (s) => s.team.defineRole('Tech', TECH, await s.team.roleRevision('Tech')));
    expect(await answer(a)).toBe('ok');
    for (const d of [c, b]) expect(await answer(d), d.name).toBe('ok');
    await carolMakesThenNarrowed('Initech', 'Initech NAS', 'i-1', VIEW);
    await carolRevealsRouter();
    // The owner makes a customer of the same name before her record comes: a tombstone holding her customer's id
    // would keep his from ever joining hers (its row named by her events), so her events wait for the fold as before.
    await onDesktop(a, (s) => s.createEntry({ customer: 'Initech', title: 'Owner box', password: 'o-1' }));
    await answer(a);
    await answer(a);
    expect(await customersOn(a)).toEqual(['Acme', 'Globex', 'Initech']);
    expect(await carolsEvents(a, 'password.reveal', 'Router')).toBe(1);
    // Her role may add entries again: her customer's record is taken, his folds into it, every event chains.
    await onDesktop(a, async (s) => s.team.defineRole('Tech', TECH, await s.team.roleRevision('Tech')));
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    expect(await answer(a)).toBe('ok');
    expect(await answer(a)).toBe('ok');
    expect(setAsideOn(a)).toEqual([]);
    expect(await customersOn(a)).toEqual(['Acme', 'Globex', 'Initech']);
    expect(await carolsEvents(a, 'password.reveal', 'Router')).toBe(2);
    expect(await passwordOn(a, 'Initech NAS')).toBe('i-1');
    expect(await onDesktop(a, async (s) => (await s.verifyAuditLog()).chain)).toMatchObject({ ok: true });
    expect(await answer(c)).toBe('ok');
    expect(await passwordOn(c, 'Owner box')).toBe('o-1');
    expect(await customersOn(c)).toEqual(['Acme', 'Globex', 'Initech']);
  });

  it('a directory key rotated while the tombstone stands re-seals every name and leaves it nameless', async () => {
    await onDesktop(a, async (s) => s.team.defineRole('Tech', TECH, await s.team.roleRevision('Tech')));
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    await carolMakesThenNarrowed('Umbrella', 'Umbrella NAS', 'u-1', VIEW);
    expect(await answer(a)).toBe('ok');
    expect(setAsideOn(a)).toEqual([expect.stringContaining('adds a customer its sender may not')]);
    // Disabling bob rotates the directory key: every customer's name is sealed again, the tombstone has none to seal.
    await onDesktop(a, async (s) => s.team.disableUser('bob', await s.team.userRevision('bob')));
    expect(await answer(a)).toBe('ok');
    expect(await customersOn(a)).toEqual(['Acme', 'Globex', 'Initech']);
    expect(await onDesktop(a, async (s) => (await s.verifyAuditLog()).chain)).toMatchObject({ ok: true });
    expect(await carolsEvents(a, 'entry.create', 'Umbrella NAS')).toBe(1);
    expect(await passwordOn(a, 'Umbrella NAS')).toBeUndefined();
  });
});
