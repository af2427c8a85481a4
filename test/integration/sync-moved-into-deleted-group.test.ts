/**
 * Hostile review of 0e347bd (a group's deletion taken only once its agreed entries' signed deletes
 * or moves are in): an entry agreed in another group, moved into the group here and not sent, is
 * an agreed entry standing in the group here, but the server never held it there, so no signed
 * record ever takes it out. The deletion waited for it for good, and the push moving it into the
 * deleted group was refused (FORBIDDEN) at every sync: all of the member's other changes held back.
 * Real files, a real team server on PGlite over loopback HTTP, the CLI's sync.
 * Must never put a password in a process argument.
 */
import { describe, expect, it } from 'vitest';
import { BOB, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 2, 0, 0));
const team = useTeamDesktops('crewvault-moved-into-deleted', clock);
const { a, b, onDesktop, sync, setPassword } = team;

describe('an entry moved here into a group deleted elsewhere (0e347bd hostile review)', () => {
  it('does not hold the deletion, nor the member\'s other changes, for good', async () => {
    clock.advance(1_000);
    const labId = await onDesktop(a, async (s) => {
      const lab = await s.team.createGroup('Lab');
      await s.team.grant(lab.id, BOB, false, await s.team.groupRevision(lab.id));
      return lab.id;
    });
    for (const d of [a, b]) expect((await sync(d)).code, d.name).toBe('ok');
    const labOnB = await onDesktop(b, async (s) => (await s.team.listGroups()).find((g) => g.name === 'Lab')?.id);
    if (labOnB === undefined) throw new Error('bob does not hold Lab');

    // Bob, offline, moves Printer (agreed, in the default group) into Lab, and changes Switch.
    clock.advance(1_000);
    await onDesktop(b, async (s) => {
      const printer = await s.resolvePath('Acme/Printer');
      await s.team.moveEntry(printer.id, labOnB, printer.revision ?? -1);
    });
    await setPassword(b, 'Acme/Switch', 's-bob');
    // The owner deletes Lab, empty on the server.
    clock.advance(1_000);
    await onDesktop(a, async (s) => s.team.deleteGroup(labId, await s.team.groupRevision(labId)));
    expect((await sync(a)).code).toBe('ok');

    // The move stays on bob's desktop, told; his change of Switch reaches the team.
    const out = await sync(b);
    expect(out.code, out.stderr).toBe('ok');
    expect(JSON.parse(out.stdout)).toMatchObject({ deletionWaiting: expect.stringMatching(/^1 change of an entry stays on this desktop, not sent: its group was deleted elsewhere/) as unknown });
    expect((await sync(a)).code).toBe('ok');
    expect(await onDesktop(a, async (s) => s.revealPassword((await s.resolvePath('Acme/Switch')).id))).toBe('s-bob');

    // Bob moves Printer back out: the deletion is taken, and nothing waits.
    const defaultOnB = await onDesktop(b, async (s) => (await s.team.listGroups()).find((g) => g.name !== 'Lab' && g.name !== 'Ops')?.id);
    if (defaultOnB === undefined) throw new Error('bob holds no default group');
    clock.advance(1_000);
    await onDesktop(b, async (s) => {
      const printer = await s.resolvePath('Acme/Printer');
      await s.team.moveEntry(printer.id, defaultOnB, printer.revision ?? -1);
    });
    const after = await sync(b);
    expect(after.code, after.stderr).toBe('ok');
    expect(JSON.parse(after.stdout)).not.toHaveProperty('deletionWaiting');
    expect(await onDesktop(b, async (s) => (await s.team.listGroups()).map((g) => g.name))).not.toContain('Lab');
    expect((await sync(a)).code).toBe('ok');
    expect(await onDesktop(a, async (s) => s.revealPassword((await s.resolvePath('Acme/Printer')).id))).toBe('p-1');
  }, 180_000);
});
