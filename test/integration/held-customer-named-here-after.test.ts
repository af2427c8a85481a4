/**
 * A customer of the name of a technician's held customer, made on a receiver after it holds that customer as a
 * named-only tombstone (replica-service.ts namedOnlyCustomer). carol makes Globex while her role Tech may add
 * entries; the owner narrows Tech to view only before she syncs, and takes her events (the tombstone). The
 * owner, who sees no Globex, then adds an entry under a customer he types as "Globex". Before: it was made
 * here and held back from every push (the server holds her record of the name); once her role allowed it
 * again her record met it and the tombstone (CONFLICT, "cannot join it"), set aside for good: his entry never
 * reached the team and hers never reached him. Expected: his entry is refused at once (CONFLICT, nothing
 * added); once her role allows it, her customer and entry are taken in over the tombstones, and an entry he
 * then adds under "Globex" joins her customer and reaches her. And a later revision of her customer under
 * another name (an altered desktop), met by a customer of that name made here, waits: its fold would give his
 * row the global id the tombstone holds (without the check, every sync of the owner failed INTERNAL, SqliteError).
 * A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync (test/support/team-desktops.ts).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { isCrewvaultError } from '../../shared/errors';
import { sealJson } from '../../electron/vault/crypto';
import { contexts, customerIndex, type KeyRing } from '../../electron/vault/keys';
import { setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { carolNarrowed, TECH, VIEW } from '../support/carol-narrowed';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 8, 2, 0, 0));
const team = useTeamDesktops('crewvault-held-customer-named-here', clock);
const { a, c, onDesktop, answer } = team;
const { carolTech, passwordOn, customersOn, historyOf, carolMakesThenNarrowed } = carolNarrowed(team, clock);


/** The code of the error `work` fails with ('none' when it does not). */
async function codeOf(work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
    return 'none';
  } catch (error) {
    return isCrewvaultError(error) ? error.code : String(error);
  }
}

describe('a customer of a held customer\'s name made on a receiver holding its tombstone', () => {
  it('is refused at once, and after her role allows it again his entry joins her customer', async () => {
    await carolTech();
    await carolMakesThenNarrowed('Globex', 'Globex NAS', 'nas-1', VIEW);
    expect(await answer(a)).toBe('ok');
    expect(setAsideOn(a)).toEqual([expect.stringContaining('adds a customer its sender may not')]);
    // The owner sees no Globex and types it for an entry of his own: refused, nothing added (typed in another case too).
    clock.advance(1_000);
    for (const typed of ['Globex', 'GLOBEX ']) {
      expect(await codeOf(() => onDesktop(a, (s) => s.createEntry({ customer: typed, title: 'Owner box', password: 'o-1' }))), typed).toBe('CONFLICT');
    }
    expect(await customersOn(a)).toEqual(['Acme']);
    expect(await answer(a)).toBe('ok');
    // Her role may add entries again: her customer and entry are taken in over the tombstones.
    await onDesktop(a, async (s) => s.team.defineRole('Tech', TECH, await s.team.roleRevision('Tech')));
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    expect(await answer(a)).toBe('ok');
    expect(setAsideOn(a)).toEqual([]);
    expect(await customersOn(a)).toEqual(['Acme', 'Globex']);
    expect(await passwordOn(a, 'Globex NAS')).toBe('nas-1');
    // Now his entry under that name joins her customer and reaches her.
    await onDesktop(a, (s) => s.createEntry({ customer: 'Globex', title: 'Owner box', password: 'o-1' }));
    expect(await answer(a)).toBe('ok');
    expect(setAsideOn(a)).toEqual([]);
    expect(await answer(c)).toBe('ok');
    expect(setAsideOn(c)).toEqual([]);
    expect(await passwordOn(c, 'Owner box')).toBe('o-1');
    expect(await customersOn(c)).toEqual(['Acme', 'Globex']);
    for (const d of [a, c]) expect(await historyOf(d), d.name).toMatchObject({ ok: true });
  });

  it('a later revision of her customer under another name, met by a customer of that name made here, waits: no sync fails', async () => {
    await carolMakesThenNarrowed('Soylent', 'Soylent NAS', 's-1', VIEW);
    expect(await answer(a)).toBe('ok');
    expect(setAsideOn(a)).toEqual([expect.stringContaining('adds a customer its sender may not')]);
    // Her desktop (altered: the app renames no customer) sends her customer again as "Initech": set aside on the owner's too.
    const sealed = await onDesktop(c, async (s) => {
      const ring = (s as unknown as { ring: KeyRing }).ring;
      const customer = (await s.listCustomers()).find((x) => x.name === 'Soylent');
      if (customer === undefined) throw new Error('no Soylent on carol\'s desktop');
      const db = new Database(c.file, { readonly: true });
      const uid = (db.prepare('SELECT uid FROM customers WHERE id = ?').get(customer.id) as { uid: Buffer }).uid;
      db.close();
      return { uid, sealedName: sealJson(ring.directoryKey, 'Initech', contexts.customerName({ uid })), nameIndex: customerIndex(ring, 'Initech') };
    });
    const db = new Database(c.file);
    db.prepare('UPDATE customers SET sealed_name = ?, name_index = ? WHERE uid = ?').run(sealed.sealedName, sealed.nameIndex, sealed.uid);
    db.close();
    expect(await answer(c)).toBe('ok');
    expect(await answer(a)).toBe('ok');
    // The owner makes "Initech" (the server holds her record of the name: it waits here unsent).
    await onDesktop(a, (s) => s.createEntry({ customer: 'Initech', title: 'Owner NAS', password: 'o-2' }));
    expect(await answer(a)).toBe('ok');
    await onDesktop(a, async (s) => s.team.defineRole('Tech', TECH, await s.team.roleRevision('Tech')));
    // Her record, taken over the tombstone, would fold his customer into an id the tombstone holds: it waits, every sync still answers.
    for (let i = 0; i < 2; i++) expect(await answer(a)).toBe('ok');
    expect(setAsideOn(a)).toContainEqual(expect.stringContaining('whose audit events this desktop took in before its record'));
    expect(await passwordOn(a, 'Owner NAS')).toBe('o-2');
    expect(await historyOf(a)).toMatchObject({ ok: true });
  });
});
