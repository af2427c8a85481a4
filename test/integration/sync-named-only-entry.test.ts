/**
 * Hostile review of 5c257f7 (an entry named only by an event, in a group deleted here, held as an
 * emptied tombstone so the event chains): the tombstone is made on an event's word alone. An event
 * naming a real entry that this desktop does not hold yet, in a group deleted here, arrives before
 * the entry's record: a dishonest server holding that record back for one sync, or a member's
 * altered desktop signing such an event before making the entry. Every later record of the entry
 * was then judged as a move out of the deleted group, whose keys nobody holds here any more, and
 * refused as tampered: the entry stayed hidden on this desktop for good, however honestly it came
 * later. A tombstone made only for an event is no version of the entry this desktop ever held: the
 * entry's first record is judged as new, as it would have been without the event.
 * Real files, a real team server on PGlite over loopback HTTP, the sync's own code; the server's
 * dishonesty is a client that leaves one record out of the pages of one sync.
 * Must never put a password in a process argument.
 */
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import { entryUidIn, pullsWithholding, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 1, 0, 0));
const team = useTeamDesktops('crewvault-named-only-entry', clock);
const { a, a2, onDesktop, sync, setPassword } = team;


describe('an entry named by an event before its record comes (5c257f7 hostile review)', () => {
  it('is taken in when its record comes, not hidden for good', async () => {
    // The owner makes Lab and Net; her second desktop knows both.
    clock.advance(1_000);
    const ids = await onDesktop(a, async (s) => ({ lab: (await s.team.createGroup('Lab')).id, net: (await s.team.createGroup('Net')).id }));
    for (const d of [a, a2]) expect((await sync(d)).code, d.name).toBe('ok');
    // She adds Kiosk in Lab, moves it to Net, and deletes Lab: the event of its making names Lab.
    clock.advance(1_000);
    const kioskId = await onDesktop(a, async (s) => {
      await s.createEntries([{ customer: 'Acme', title: 'Kiosk', password: 'kiosk-1', groupId: ids.lab }]);
      const kiosk = await s.resolvePath('Acme/Kiosk');
      await s.team.moveEntry(kiosk.id, ids.net, kiosk.revision ?? -1);
      await s.team.deleteGroup(ids.lab, await s.team.groupRevision(ids.lab));
      return kiosk.id;
    });
    expect((await sync(a)).code).toBe('ok');
    const kioskUid = entryUidIn(a.file, kioskId);

    // Her second desktop syncs twice through a server that holds Kiosk's record back: the events come, Lab's deletion is taken.
    for (let i = 0; i < 2; i++) {
      const kept = await keptSession(serverPlace(a2.env), new URL(team.server.url).origin, () => clock.now());
      const client = pullsWithholding(kept.client, (r) => r.kind === 'entry' && r.id === kioskUid);
      await onDesktop(a2, (s) => syncOnce(client, s.replica));
    }
    expect((await onDesktop(a2, (s) => s.listEntries())).map((e) => e.title)).not.toContain('Kiosk');

    // Kiosk changes; its record now comes honestly, and is taken.
    await setPassword(a, 'Acme/Kiosk', 'kiosk-2');
    expect((await sync(a)).code).toBe('ok');
    const out = await sync(a2);
    expect(out.code, out.stderr).toBe('ok');
    expect(JSON.parse(out.stdout)).toMatchObject({ held: 0 });
    expect(await onDesktop(a2, async (s) => s.revealPassword((await s.resolvePath('Acme/Kiosk')).id))).toBe('kiosk-2');
  }, 180_000);
});
