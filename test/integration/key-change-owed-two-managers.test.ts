/**
 * A key change owed (issue #15, docs/SYNC.md "A key change owed") told to a lead of the group, not only to an owner,
 * and changed by two managers at once: the owner revokes bob from Ops on desktop a, its rotation is lost on the way
 * and a is abandoned; carol, who leads Ops, and the owner's other desktop a2 are both told, and both change the key
 * before either syncs. One rotation lands; the other desktop gives way to it (replica-people-in.ts giveWay), nothing
 * removed again, and the line stops on both.
 * Real desktops (real vault files) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { keptClient, losingRotations, opsOnServer, opsWrapsIn, outcomeOf, switchPasswordOn, synced } from '../support/revoke-first';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { owedIn } from '../support/key-change-owed';
import { manualClock, OWNER } from '../support/vault';

const OWED_BOB = 'bob was removed from Ops on the server, but its key has not been changed since: what is written there stays under the key bob held. Change it: crewvault group rotate Ops (or the Groups screen).';

describe('a key change owed, told to a lead of the group too, changed by two managers at once', () => {
  const clock = manualClock(Date.UTC(2026, 11, 9, 15, 0, 0));
  const team = useTeamDesktops('crewvault-key-change-owed-two', clock);
  const { a, a2, c, onDesktop } = team;
  let v = 0;

  beforeAll(async () => {
    // carol, made a team lead, leads Ops: she manages it without being an owner or admin.
    await onDesktop(a, async (s) => {
      await s.team.changeRole(CAROL, 'team_lead', await s.team.userRevision(CAROL));
      await s.team.grant(team.opsId, CAROL, true, await s.team.groupRevision(team.opsId));
    });
    for (const d of [a, a2, team.b, c]) expect(await team.answer(d), d.name).toBe('ok');
    v = (await opsOnServer(team)).version ?? 0;
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    expect(await onDesktop(a, async (s) => outcomeOf(syncOnce(losingRotations(await keptClient(team, a, () => clock.now())), s.replica)))).toMatch(/^SERVER_UNREACHABLE/);
    expect(await opsOnServer(team)).toEqual({ holders: [OWNER, CAROL], version: v });
  }, 240_000);

  it('is told to the lead; both change the key before either syncs: one rotation lands, the other gives way, the line stops', async () => {
    expect((await synced(team, c)).keyChangesOwed).toBe(OWED_BOB);
    expect((await synced(team, a2)).keyChangesOwed).toBe(OWED_BOB);
    await onDesktop(c, async (s) => s.team.rotateKey(team.opsId));
    await onDesktop(a2, async (s) => s.team.rotateKey(team.opsId));
    expect((await synced(team, a2)).keyChangesOwed).toBeUndefined();
    expect(await opsOnServer(team)).toEqual({ holders: [OWNER, CAROL], version: v + 1 });
    const gaveWay = await synced(team, c);
    expect(gaveWay.keyChangesOwed).toBeUndefined();
    expect(await team.answer(c)).toBe('ok');
    expect(await opsOnServer(team)).toEqual({ holders: [OWNER, CAROL], version: v + 1 });
    expect(opsWrapsIn(team, c)).toEqual([`${OWNER}@${v + 1}`, `${CAROL}@${v + 1}`]);
    expect(owedIn(c)).toEqual([]);
    // What Ops holds opens on both under the key that landed.
    expect(await switchPasswordOn(team, c)).toBe(await switchPasswordOn(team, a2));
  }, 240_000);
});
