/**
 * A rotation crossing a deletion of its group that this desktop cannot take in yet (plan s39, section 2, T8). The
 * owner's desktop a2 moves Printer (agreed in the default group) into Bench and revokes bob from Bench, neither
 * sent; a, the owner's other desktop, deletes Bench (empty on the server) and syncs between a2's pull and its push.
 * a2's rotation is answered with the deletion as a conflict (server/sync/records.ts groupsChangedUnseen), and the
 * pull after it sets the deletion aside: Printer, agreed, stands in Bench here and no signed record takes it out
 * (replica-people-new.ts takeDelete). Pushing again meets the same conflict, so the sync ends with the reason the
 * deletion waits (sync.ts stuckOnHeld), not BUSY and not a FORBIDDEN naming Printer. A sync made while it still
 * waits sends the rotation (the server holding the group deleted stores it as nothing) and keeps the revision agreed
 * before it (replica-service.ts markSent, noteGroupSentOverDeletion), so the deletion is not read as older than it.
 * Once Printer is moved out, the next sync takes the deletion over the rotation, and Printer's move reaches the team.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { describe, expect, it } from 'vitest';
import { CrewvaultError } from '../../shared/errors';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import { BOB, pushingAfter, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 16, 0, 0));
const team = useTeamDesktops('crewvault-rotation-waiting-delete', clock);
const { a, a2, onDesktop, sync } = team;

async function synced(d: typeof a): Promise<void> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
}

const groupNames = async (d: typeof a): Promise<string[]> => onDesktop(d, async (s) => (await s.team.listGroups()).map((g) => g.name));

describe('a rotation crossing a deletion of its group that waits here for an agreed entry', () => {
  it('ends the sync with the reason the deletion waits, and the group goes once the entry is moved out', async () => {
    const bench = await onDesktop(a, async (s) => {
      const group = await s.team.createGroup('Bench');
      await s.team.grant(group.id, BOB, false, await s.team.groupRevision(group.id));
      return group.id;
    });
    await synced(a);
    await synced(a2);
    const groupsOnA2 = await onDesktop(a2, async (s) => s.team.listGroups());
    const benchOnA2 = groupsOnA2.find((g) => g.name === 'Bench')?.id ?? 0;
    const defaultOnA2 = groupsOnA2.find((g) => g.name !== 'Bench' && g.name !== 'Ops')?.id ?? 0;
    clock.advance(1_000);
    await onDesktop(a2, async (s) => {
      const printer = await s.resolvePath('Acme/Printer');
      await s.team.moveEntry(printer.id, benchOnA2, printer.revision ?? -1);
      await s.team.revoke(benchOnA2, BOB, await s.team.memberRevision(benchOnA2, BOB));
    });
    const deleteOnA = async (): Promise<void> => {
      clock.advance(1_000);
      await onDesktop(a, async (s) => { await s.team.deleteGroup(bench, await s.team.groupRevision(bench)); });
      await synced(a);
    };
    const kept = await keptSession(serverPlace(a2.env), new URL(team.server.url).origin, () => clock.now());
    const ended = await onDesktop(a2, (s) => syncOnce(pushingAfter(kept.client, deleteOnA), s.replica)).then(() => undefined, (error: unknown) => error);
    expect(ended).toBeInstanceOf(CrewvaultError);
    expect(ended).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/^The server holds a newer version of an access group this desktop cannot take in yet.*deletes an access group that still holds entries here/) as unknown });
    expect(await groupNames(a2)).toContain('Bench');

    // Synced again while the deletion waits (the deletion now before its pull): the rotation goes, stored as nothing by
    // the server holding the group deleted, the revision agreed before it kept (without it, the deletion read as older
    // than it once Printer left, and Bench stayed here for good). The rest goes; the move into Bench waits, told.
    const waiting = await sync(a2);
    expect(waiting.code, waiting.stderr).toBe('ok');
    expect(JSON.parse(waiting.stdout)).toMatchObject({ deletionWaiting: expect.stringMatching(/^1 change of an entry stays on this desktop, not sent: its group was deleted elsewhere/) as unknown });

    // Printer moved back out: the deletion is taken (the unsent rotation dropped with it), and the move goes.
    clock.advance(1_000);
    await onDesktop(a2, async (s) => {
      const printer = await s.resolvePath('Acme/Printer');
      await s.team.moveEntry(printer.id, defaultOnA2, printer.revision ?? -1);
    });
    await synced(a2);
    expect(await groupNames(a2)).not.toContain('Bench');
    await synced(a);
    expect(await groupNames(a)).not.toContain('Bench');
    expect(await onDesktop(a, async (s) => s.revealPassword((await s.resolvePath('Acme/Printer')).id))).toBe('p-1');
  }, 180_000);
});
