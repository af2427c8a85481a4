/**
 * Hostile review of 0fe8992 (a revoke goes ahead of its rotation; its note, marked stored, kept until the push's last
 * part is): the sent mark held back by a change this desktop keeps unsent. The owner's second desktop `a2` moves
 * Printer into Bench, which the owner's desktop `a` deletes meanwhile: the deletion waits on a2 (Printer, agreed,
 * stands there) and a2's sent mark stays before the move (replica-service.ts outgoing). a2 then revokes bob from Ops
 * and syncs: the revoke and its rotation land whole, but the note, past the sent mark, was never forgotten: every sync
 * told "its key change waits" of a key changed already, and a give-way's rotateAgain later still read bob as one to
 * leave out. A push ended forgets the notes whose records it carried.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { describe, expect, it } from 'vitest';
import { getGroup } from '../../server/store/membership';
import { groupUidIn, BOB, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 8, 9, 0, 0));
const team = useTeamDesktops('crewvault-revoke-note-held', clock);
const { a, a2, onDesktop, sync } = team;

async function synced(d: typeof a): Promise<void> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
}

describe('a revoke landing whole while the sent mark is held back by a change kept here', () => {
  it('is not told as waiting for its key change afterwards', async () => {
    const bench = await onDesktop(a, async (s) => (await s.team.createGroup('Bench')).id);
    await synced(a);
    await synced(a2);
    const benchOnA2 = (await onDesktop(a2, async (s) => s.team.listGroups())).find((g) => g.name === 'Bench')?.id ?? 0;
    clock.advance(1_000);
    await onDesktop(a2, async (s) => {
      const printer = await s.resolvePath('Acme/Printer');
      await s.team.moveEntry(printer.id, benchOnA2, printer.revision ?? -1);
    });
    clock.advance(1_000);
    await onDesktop(a, async (s) => { await s.team.deleteGroup(bench, await s.team.groupRevision(bench)); });
    await synced(a);
    // a2 takes the deletion in: it waits for Printer, and the move stays here, unsent.
    const held = await sync(a2);
    expect(JSON.parse(held.stdout)).toMatchObject({ deletionWaiting: expect.stringMatching(/not sent: its group was deleted elsewhere/) as unknown });
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const ops = groupUidIn(a.file, team.opsId);
    const version = async (): Promise<number | undefined> => team.server.database.transaction(async (tx) => (await getGroup(tx, vault, ops))?.keyVersion);
    const before = await version();
    clock.advance(1_000);
    await onDesktop(a2, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    const revoked = await sync(a2);
    expect(revoked.code, revoked.stderr).toBe('ok');
    expect(await version()).toBe((before ?? 0) + 1);
    // Its key changed on the server: nothing of the revoke waits, at this sync or the next.
    expect(JSON.parse(revoked.stdout)).not.toHaveProperty('revokesWaiting');
    const next = await sync(a2);
    expect(JSON.parse(next.stdout)).not.toHaveProperty('revokesWaiting');
  }, 180_000);
});
