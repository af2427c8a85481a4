/**
 * A move record naming an access group this desktop does not know moves nothing (review of
 * 678a3d9, finding 4): every group record is handed to every person, so a group unknown after the
 * page that told the move was withheld, and the record's "you do not hold it" is then the server's
 * word. The owner moves Printer from the default group into a new group, Hidden; the server
 * (made dishonest here by deleting Hidden's group record from its own table) withholds Hidden.
 * carol's desktop keeps Printer, told why; before, it took Printer off.
 * A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync.
 */
import { describe, expect, it } from 'vitest';
import { useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 7, 0, 0));
const team = useTeamDesktops('crewvault-left-unknown-group', clock);
const { a, c, onDesktop, sync } = team;

async function syncs(d: Desktop): Promise<{ readonly leftReach?: string; readonly leftUnverified?: string }> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
  return JSON.parse(out.stdout) as { readonly leftReach?: string; readonly leftUnverified?: string };
}

const titles = (d: Desktop): Promise<string[]> => onDesktop(d, async (s) => (await s.listEntries()).map((e) => e.title).sort());

describe('a move record naming a group withheld from this desktop', () => {
  it('leaves the entry where it is, told', async () => {
    expect(await titles(c)).toEqual(['Printer']);
    await onDesktop(a, async (s) => {
      const hidden = await s.team.createGroup('Hidden');
      const e = await s.resolvePath('Acme/Printer');
      await s.team.moveEntry(e.id, hidden.id, e.revision ?? -1);
    });
    await syncs(a);
    const [hidden] = await team.server.database.query("SELECT record_id FROM sync_records WHERE kind = 'group' ORDER BY seq DESC LIMIT 1");
    await team.server.database.query("DELETE FROM sync_records WHERE kind = 'group' AND record_id = $1", [hidden?.record_id]);

    expect(await syncs(c)).toMatchObject({
      leftUnverified: '1 entry the server said left your reach stays on this desktop, as nothing signed by someone who may move it says so: the record handed names an access group unknown or deleted here.',
    });
    expect(await titles(c)).toEqual(['Printer']);
  });
});
