/**
 * Hostile review of 0e347bd (the server keeps a deleted group's memberships as who held it, and hands
 * those members its entries' deletes): a manager who removes a member and then deletes the group, in
 * one push, moves the group to a new key version with its deletion. The server cut off everyone not
 * re-wrapped at it (every member: a deleted group is re-wrapped for no one), so nobody held the group
 * when it went, no member was handed its entries' deletes, and each member's desktop waited for them,
 * the group and its entries kept there, for good.
 * Real files, a real team server on PGlite over loopback HTTP, the CLI's sync.
 * Must never put a password in a process argument.
 */
import { describe, expect, it } from 'vitest';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 3, 0, 0));
const team = useTeamDesktops('crewvault-revoke-then-delete', clock);
const { a, b, c, onDesktop, sync } = team;

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
});
