/**
 * OPEN ITEM (pinned as it stands, not as it should be): the directory key does not travel between desktops
 * (docs/SYNC.md "the directory key does not travel"; SECURITY.md Known limits). The owner disables bob,
 * which rotates the directory key on the owner's desktop only: every customer name there is sealed again
 * and indexed under the new key, while carol's desktop keeps the old one. From then on a customer made on
 * either side does not open on the other: carol sets the owner's re-sealed Acme aside ("a customer name
 * that does not open", keeping her own), and the owner sets aside carol's new customer Hooli and her entry
 * of it, at every sync, for good. A customer record set aside across the rotation for another reason (a
 * role narrowed: held-customer-events-go.test.ts) is one case of it. When the key travels, this test
 * must change: Hooli and its entry reach the owner, nothing set aside.
 * A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync (test/support/team-desktops.ts).
 */
import { describe, expect, it } from 'vitest';
import { setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { carolNarrowed } from '../support/carol-narrowed';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 8, 3, 0, 0));
const team = useTeamDesktops('crewvault-directory-rotation-open', clock);
const { a, c, onDesktop, answer } = team;
const { carolTech, customersOn } = carolNarrowed(team, clock);


describe('open item: a directory key rotated on one desktop', () => {
  it('leaves a customer made on another desktop after it unopened there, for good', async () => {
    await carolTech();
    await onDesktop(a, async (s) => s.team.disableUser('bob', await s.team.userRevision('bob')));
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    expect(setAsideOn(c)).toContain('A received record is a customer name that does not open: nothing was applied.');
    expect(await customersOn(c)).toEqual(['Acme']);
    clock.advance(1_000);
    await onDesktop(c, (s) => s.createEntry({ customer: 'Hooli', title: 'Hooli NAS', password: 'h-1' }));
    expect(await answer(c)).toBe('ok');
    for (let i = 0; i < 2; i++) expect(await answer(a)).toBe('ok');
    const onOwner = setAsideOn(a);
    expect(onOwner).toContain('A received record is a customer name that does not open: nothing was applied.');
    expect(onOwner).toContainEqual(expect.stringContaining('The records name a customer this vault does not have'));
    expect(await customersOn(a)).toEqual(['Acme']);
    expect(await onDesktop(a, async (s) => (await s.listEntries()).map((e) => e.title))).not.toContain('Hooli NAS');
    expect(await customersOn(c)).toEqual(['Acme', 'Hooli']);
  });
});
