/**
 * Hostile review of the revoke going ahead of its rotation (electron/team/sync.ts partsOf), second round: a lead's
 * revoke stored ahead of its rotation, crossed by their own revoke made on a desktop that had not pulled it. Bob, a
 * lead of Ops, revokes carol: his revoke is stored (carol out on the server), his rotation's part lost on the way. The
 * owner, not having pulled it, revokes bob. The owner's desktop pulled bob's revoke under its own rotation and judged
 * him by what it held now, its own removal of him not sent: no longer a lead, his revoke was taken as nothing, and the
 * owner's rotation, re-wrapping carol, gave her the new key and Ops back on the server, nobody told.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { BOB, CAROL, setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { bobLeadsOpsWithCarol, holdsOps, keptClient, losingRotations, opsMembersOn, opsOnServer, outcomeOf } from '../support/revoke-first';

describe('a lead\'s revoke stored ahead of its rotation, the lead revoked on a desktop that had not pulled it', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 15, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-lead-revoke-crossed', clock);
  const { a, b, c, onDesktop } = team;

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('keeps carol out: the owner\'s rotation is made without her', async () => {
    const before = await opsOnServer(team);
    expect(before.holders).toEqual(['alice', BOB, CAROL]);
    await onDesktop(b, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    const first = await onDesktop(b, async (s) => outcomeOf(syncOnce(losingRotations(await keptClient(team, b, () => clock.now())), s.replica)));
    expect(first).toMatch(/^SERVER_UNREACHABLE/);
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', BOB], version: before.version });
    const answers: string[] = [];
    for (const d of [a, b, c, a]) answers.push(`${d.name}: ${await team.answer(d)}`);
    expect(answers).toEqual(['a: ok', 'b: ok', 'c: ok', 'a: ok']);
    expect(await opsOnServer(team)).toEqual({ holders: ['alice'], version: (before.version ?? 0) + 1 });
    expect({ a: await opsMembersOn(team, a), b: await holdsOps(team, b), c: await holdsOps(team, c), aside: setAsideOn(a) }).toEqual({ a: ['alice'], b: false, c: false, aside: [] });
  }, 240_000);
});
