/**
 * A move out of reach judged with what the page telling it brings (review of 678a3d9, finding 3):
 * carol holds the default group and Net, where Printer is; bob holds the default group and Ops.
 * While carol's desktop is away the owner grants bob Net and bob moves Printer from Net into Ops.
 * carol's pull hands bob's grant and his move record in one page: judged before the grant was taken
 * in, bob "did not hold Net" here, the record was refused and the cursor passed the note, so
 * Printer stayed at its old password for good. A move record naming a group this desktop does not
 * know (nor learns in the page) moves nothing, told.
 * A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync.
 */
import { describe, expect, it } from 'vitest';
import { useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 7, 0, 0));
const team = useTeamDesktops('crewvault-left-same-page', clock);
const { a, b, c, onDesktop, sync } = team;

async function syncs(d: Desktop): Promise<{ readonly leftReach?: string; readonly leftUnverified?: string }> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
  return JSON.parse(out.stdout) as { readonly leftReach?: string; readonly leftUnverified?: string };
}

const titles = (d: Desktop): Promise<string[]> => onDesktop(d, async (s) => (await s.listEntries()).map((e) => e.title).sort());

describe('a move out of reach by someone granted the group in the same page', () => {
  it('takes the entry off her desktop', async () => {
    let netId = -1;
    await onDesktop(a, async (s) => {
      netId = (await s.team.createGroup('Net')).id;
      await s.team.grant(netId, 'carol', false, await s.team.groupRevision(netId));
      const e = await s.resolvePath('Acme/Printer');
      await s.team.moveEntry(e.id, netId, e.revision ?? -1);
    });
    await syncs(a);
    await syncs(c);
    expect(await titles(c)).toEqual(['Printer']);

    // carol's desktop is away from here on.
    await onDesktop(a, async (s) => {
      await s.team.grant(netId, 'bob', false, await s.team.groupRevision(netId));
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
    expect(told.leftReach).toMatch(/^1 entry left your reach/);
    expect(await titles(c)).toEqual([]);
  });
});
