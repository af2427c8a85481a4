/**
 * As revoke-first-lead-revoke-crossed.test.ts, the other order: bob's revoke of carol is stored between the owner's
 * pull and its push, so the owner's revoke of bob is stored too (ahead of its rotation, which the server refuses for
 * carol's revoke unseen) before its desktop pulls bob's. Its agreed state of bob gone with that stored revoke, bob's
 * revoke was set aside as one its sender does not manage, and the owner's rotation, pushed again, gave carol the new
 * key and Ops back. A signer whose removal is this desktop's own, its push not ended, is judged a lead still.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { BOB, CAROL, pushingAfter, setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { bobLeadsOpsWithCarol, holdsOps, keptClient, losingRotations, opsMembersOn, opsOnServer, outcomeOf } from '../support/revoke-first';

describe('a lead\'s revoke stored between the owner\'s pull and the push of its revoke of that lead', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 17, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-lead-revoke-stored', clock);
  const { a, b, c, onDesktop } = team;

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('keeps carol out: the owner\'s rotation is made without her', async () => {
    const before = await opsOnServer(team);
    await onDesktop(b, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    let first = '';
    const client = pushingAfter(await keptClient(team, a, () => clock.now()), async () => {
      first = await onDesktop(b, async (s) => outcomeOf(syncOnce(losingRotations(await keptClient(team, b, () => clock.now())), s.replica)));
    });
    const owner = await onDesktop(a, (s) => outcomeOf(syncOnce(client, s.replica)));
    expect(first).toMatch(/^SERVER_UNREACHABLE/);
    // Its revoke of bob stored, its rotation refused (carol's revoke stored since its pull): it pulls that revoke, takes it, and pushes without her.
    expect(owner).toBe('ok');
    const answers: string[] = [];
    for (const d of [a, b, c, a]) answers.push(`${d.name}: ${await team.answer(d)}`);
    expect(answers).toEqual(['a: ok', 'b: ok', 'c: ok', 'a: ok']);
    expect(await opsOnServer(team)).toEqual({ holders: ['alice'], version: (before.version ?? 0) + 1 });
    expect({ a: await opsMembersOn(team, a), b: await holdsOps(team, b), c: await holdsOps(team, c), aside: setAsideOn(a) }).toEqual({ a: ['alice'], b: false, c: false, aside: [] });
  }, 240_000);
});
