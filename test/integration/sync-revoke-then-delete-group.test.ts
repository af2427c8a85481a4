/**
 * Hostile review of 0e347bd (the server keeps a deleted group's memberships as who held it, and hands
 * those members its entries' deletes): a manager who removes a member and then deletes the group, in
 * one push, moves the group to a new key version with its deletion. The server cut off everyone not
 * re-wrapped at it (every member: a deleted group is re-wrapped for no one), so nobody held the group
 * when it went, no member was handed its entries' deletes, and each member's desktop waited for them,
 * the group and its entries kept there, for good.
 * And a removal made on a desktop that had not taken a deletion of the group made elsewhere in yet
 * (the owner's second desktop) was refused by the server (CONFLICT: a member record of a group it
 * does not hold) at every sync, holding back every other change of that desktop: a change of a
 * membership of a group deleted before the push changes nothing now, and is not stored (stale).
 * Real files, a real team server on PGlite over loopback HTTP, the CLI's sync.
 * Must never put a password in a process argument.
 */
import { describe, expect, it } from 'vitest';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 3, 0, 0));
const team = useTeamDesktops('crewvault-revoke-then-delete', clock);
const { a, a2, b, c, onDesktop, sync, setPassword } = team;

describe('a member removed and the group deleted in one push (0e347bd hostile review)', () => {
  it('is taken by the member who stays, the group\'s entries with it', async () => {
    clock.advance(1_000);
    const labId = await onDesktop(a, async (s) => {
      const lab = await s.team.createGroup('Lab');
      await s.team.grant(lab.id, BOB, false, await s.team.groupRevision(lab.id));
      await s.team.grant(lab.id, CAROL, false, await s.team.groupRevision(lab.id));
      await s.createEntries([{ customer: 'Acme', title: 'Bench', password: 'bench-1', groupId: lab.id }]);
      return lab.id;
    });
    for (const d of [a, b, c]) expect((await sync(d)).code, d.name).toBe('ok');
    expect((await onDesktop(b, (s) => s.listEntries())).map((e) => e.title)).toContain('Bench');

    // The owner deletes Bench, removes carol from Lab, deletes Lab; one sync sends it all.
    clock.advance(1_000);
    await onDesktop(a, async (s) => {
      const bench = await s.resolvePath('Acme/Bench');
      await s.deleteEntry(bench.id, bench.revision ?? -1);
      await s.team.revoke(labId, CAROL, await s.team.memberRevision(labId, CAROL));
      await s.team.deleteGroup(labId, await s.team.groupRevision(labId));
    });
    const sent = await sync(a);
    expect(sent.code, sent.stderr).toBe('ok');

    const out = await sync(b);
    expect(out.code, out.stderr).toBe('ok');
    expect(await onDesktop(b, async (s) => (await s.team.listGroups()).map((g) => g.name))).not.toContain('Lab');
    expect((await onDesktop(b, (s) => s.listEntries())).map((e) => e.title)).not.toContain('Bench');
    // Carol's removal reached the server (she no longer counts as holding Lab): her desktop takes it, and Lab goes.
    const carol = await sync(c);
    expect(carol.code, carol.stderr).toBe('ok');
    expect(await onDesktop(c, async (s) => (await s.team.listGroups()).map((g) => g.name))).not.toContain('Lab');
    expect((await onDesktop(c, (s) => s.listEntries())).map((e) => e.title)).not.toContain('Bench');
  }, 180_000);

  it('does not hold back a desktop whose removal of a member crosses the group\'s deletion elsewhere', async () => {
    clock.advance(1_000);
    const shopId = await onDesktop(a, async (s) => {
      const shop = await s.team.createGroup('Shop');
      await s.team.grant(shop.id, BOB, false, await s.team.groupRevision(shop.id));
      await s.team.grant(shop.id, CAROL, false, await s.team.groupRevision(shop.id));
      return shop.id;
    });
    for (const d of [a, a2]) expect((await sync(d)).code, d.name).toBe('ok');
    const shopOnA2 = await onDesktop(a2, async (s) => (await s.team.listGroups()).find((g) => g.name === 'Shop')?.id);
    if (shopOnA2 === undefined) throw new Error('a2 does not hold Shop');
    // The owner's second desktop, behind, removes carol from Shop and changes Printer; the first deletes Shop.
    clock.advance(1_000);
    await onDesktop(a2, async (s) => s.team.revoke(shopOnA2, CAROL, await s.team.memberRevision(shopOnA2, CAROL)));
    await setPassword(a2, 'Acme/Printer', 'p-a2');
    await onDesktop(a, async (s) => s.team.deleteGroup(shopId, await s.team.groupRevision(shopId)));
    expect((await sync(a)).code).toBe('ok');

    const out = await sync(a2);
    expect(out.code, out.stderr).toBe('ok');
    // The deletion is taken there too, over the removal's unsent rotation.
    expect(await onDesktop(a2, async (s) => (await s.team.listGroups()).map((g) => g.name))).not.toContain('Shop');
    expect((await sync(a)).code).toBe('ok');
    expect(await onDesktop(a, async (s) => s.revealPassword((await s.resolvePath('Acme/Printer')).id))).toBe('p-a2');
  }, 180_000);
});
