/**
 * Review of 678a3d9 (review 14 hole 1's fix), class: a check of a "left your reach" record that
 * holds it to the entry as it stands on this desktop, while the server hands only the newest
 * record. carol holds the default group and Net; bob holds the default group and Ops, not Net. Printer
 * is in Net on carol's desktop. The owner moves it from Net into the default group, bob then moves
 * it from there into Ops, both while carol's desktop is away. The server keeps Printer's newest
 * record only (in Ops), so carol's pull is handed the two move records: the owner's (into the
 * default group, which she holds) and bob's (out of the default group, which her desktop never saw
 * Printer in). Neither is "a record her desktop's Printer could
 * take": the first puts it in a group she holds, the second's author does not hold the group it is
 * in here. Printer has honestly left her reach and must come off her desktop, as it did under
 * schema 25 and as it does when she syncs between the two moves.
 * A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync.
 */
import { describe, expect, it } from 'vitest';
import { useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 7, 0, 0));
const team = useTeamDesktops('crewvault-left-two-hops', clock);
const { a, b, c, onDesktop, sync } = team;

async function syncs(d: Desktop): Promise<{ readonly leftReach?: string; readonly leftUnverified?: string }> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
  return JSON.parse(out.stdout) as { readonly leftReach?: string; readonly leftUnverified?: string };
}

const titles = (d: Desktop): Promise<string[]> => onDesktop(d, async (s) => (await s.listEntries()).map((e) => e.title).sort());

describe('an entry moved out of reach in two hops by two people while a member is away', () => {
  it('comes off her desktop', async () => {
    let defaultId = -1;
    let netId = -1;
    await onDesktop(a, async (s) => {
      defaultId = (await s.team.listGroups()).find((g) => g.id !== team.opsId)?.id ?? -1;
      netId = (await s.team.createGroup('Net')).id;
      await s.team.grant(netId, 'carol', false, await s.team.groupRevision(netId));
      const e = await s.resolvePath('Acme/Printer');
      await s.team.moveEntry(e.id, netId, e.revision ?? -1);
    });
    await syncs(a);
    await syncs(b);
    await syncs(c);
    expect(await titles(c)).toEqual(['Printer']);
    expect(await titles(b)).toEqual(['Firewall', 'Switch']);

    // carol's desktop is away from here on.
    await onDesktop(a, async (s) => {
      const e = await s.resolvePath('Acme/Printer');
      await s.team.moveEntry(e.id, defaultId, e.revision ?? -1);
    });
    await syncs(a);
    await syncs(b);
    expect(await titles(b)).toEqual(['Firewall', 'Printer', 'Switch']);
    await onDesktop(b, async (s) => {
      const e = await s.resolvePath('Acme/Printer');
      await s.team.moveEntry(e.id, team.opsId, e.revision ?? -1);
    });
    await syncs(b);

    const told = await syncs(c);
    expect(told.leftUnverified).toBeUndefined();
    expect(await titles(c)).toEqual([]);
  });
});
