/**
 * A key change's hold outlives its claimant's right to it (hostile review of e17323a/7d04da1, docs/SYNC.md "A key change
 * held off by writes"): carol, a lead of Ops, pushes a rotation the server refuses (bob wrote there after her pull), so Ops
 * is held for her (server/store/rotation-claims.ts). The owner then cuts her off: revokes her from Ops, or takes her
 * lead of it or her lead role away, or redefines her custom role without groups.manage, or disables her. Before, her hold still stood until it ran out: bob's writes there, and the owner's
 * rename or deletion of the group, were refused BUSY for a lead already cut off. Now the claim ends when its claimant
 * stops managing the group (server/sync/membership.ts applyPeople, rotation-claims.ts endClaims).
 * Real desktops (real vault files) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import { ROLE_PERMISSIONS } from '../../shared/policy';
import type { ServerRouteInput, ServerRouteName, ServerRouteOutput } from '../../shared/api/server-contract';
import { ROTATION_CLAIM_MS } from '../../server/store/rotation-claims';
import { opsOnServer, outcomeOf } from '../support/revoke-first';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock, OWNER } from '../support/vault';

const HELD = 'An access group this push writes into is having its key changed on another desktop: nothing was stored. Sync again in a few seconds.';

describe('a key change held by a lead who is then cut off', () => {
  const clock = manualClock(Date.UTC(2026, 11, 15, 9, 0, 0));
  const team = useTeamDesktops('crewvault-rotation-claim-cut-off', clock);
  const { a, b, c, onDesktop, sync } = team;
  let n = 0;

  /** Bob's entry written in Ops on his desktop, and his sync's code ('held' when refused as the hold words it). */
  const bobWrites = async (): Promise<string> => {
    const title = `Bob ${++n}`;
    await onDesktop(b, (s) => s.createEntries([{ customer: 'Acme', title, password: `${title}-pw`, groupId: team.opsId }]));
    const out = await sync(b);
    return out.code === 'BUSY' && out.stderr.includes(HELD) ? 'held' : out.code === 'ok' ? 'ok' : `${out.code}: ${out.stderr.trim()}`;
  };

  /** Carol (a lead of Ops) rotates it; the server refuses her first push (bob wrote in between) and her desktop is gone: Ops held for her. */
  const carolHoldsOps = async (): Promise<void> => {
    await onDesktop(c, async (s) => s.team.rotateKey(team.opsId));
    const kept = await keptSession(serverPlace(c.env), new URL(team.server.url).origin, () => clock.now());
    const call = kept.client.call.bind(kept.client);
    let pushes = 0;
    kept.client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
      if (name === 'syncPush' && ++pushes === 1) expect(await bobWrites()).toBe('ok');
      if (name === 'syncPush' && pushes > 1) throw new Error('carol\'s desktop is gone');
      return call(name, input, sent);
    };
    expect(await onDesktop(c, (s) => outcomeOf(syncOnce(kept.client, s.replica)))).toBe('Error: carol\'s desktop is gone');
    expect(await bobWrites()).toBe('held');
  };

  beforeEach(async () => {
    // Past any hold an earlier case left.
    clock.advance(ROTATION_CLAIM_MS);
    await onDesktop(a, async (s) => {
      await s.team.changeRole(CAROL, 'team_lead', await s.team.userRevision(CAROL));
      if (!(await s.team.members(team.opsId)).some((m) => m.name === CAROL)) await s.team.grant(team.opsId, CAROL, true, await s.team.groupRevision(team.opsId));
      else await s.team.setLead(team.opsId, CAROL, true, await s.team.memberRevision(team.opsId, CAROL));
    });
    // Twice round: carol's desktop sends the key change it kept from the case before, and everyone takes it in.
    for (const d of [a, b, c, a, b, c]) expect(await team.answer(d), d.name).toBe('ok');
  }, 240_000);

  it('the owner taking her lead of the group away (no key change): her hold ends with it, and bob writes there at once', async () => {
    await carolHoldsOps();
    await onDesktop(a, async (s) => s.team.setLead(team.opsId, CAROL, false, await s.team.memberRevision(team.opsId, CAROL)));
    expect(await team.answer(a)).toBe('ok');
    expect(await bobWrites()).toBe('ok');
  }, 240_000);

  it('the owner taking her lead role away: her hold ends with it, and the owner\'s key change lands at once', async () => {
    const before = (await opsOnServer(team)).version ?? 0;
    await carolHoldsOps();
    await onDesktop(a, async (s) => s.team.changeRole(CAROL, 'technician', await s.team.userRevision(CAROL)));
    expect(await team.answer(a)).toBe('ok');
    expect(await bobWrites()).toBe('ok');
    await onDesktop(a, async (s) => s.team.rotateKey(team.opsId));
    expect(await team.answer(a)).toBe('ok');
    expect((await opsOnServer(team)).version).toBe(before + 1);
  }, 240_000);

  it('the owner redefining her custom lead role without groups.manage: her hold ends with it, and bob writes there at once', async () => {
    await onDesktop(a, async (s) => {
      await s.team.defineRole('Shiftlead', ROLE_PERMISSIONS.team_lead, await s.team.roleRevision('Shiftlead'));
      await s.team.changeRole(CAROL, 'Shiftlead', await s.team.userRevision(CAROL));
    });
    for (const d of [a, b, c]) expect(await team.answer(d), d.name).toBe('ok');
    await carolHoldsOps();
    await onDesktop(a, async (s) => s.team.defineRole('Shiftlead', ROLE_PERMISSIONS.technician, await s.team.roleRevision('Shiftlead')));
    expect(await team.answer(a)).toBe('ok');
    expect(await bobWrites()).toBe('ok');
  }, 240_000);

  // Passed before the fix too: the revoke's own key change moves Ops past the version the hold was made at.
  it('the owner revoking her from the group lands at once: her hold ends with her membership', async () => {
    const before = (await opsOnServer(team)).version ?? 0;
    await carolHoldsOps();
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    expect(await team.answer(a)).toBe('ok');
    expect(await opsOnServer(team)).toEqual({ holders: [OWNER, BOB], version: before + 1 });
    expect(await bobWrites()).toBe('ok');
  }, 240_000);

  // Last: carol stays disabled. Passed before the fix too: a desktop's disabling rotates every group she held, past the hold's version.
  it('the owner disabling her: her hold ends with it, and bob writes there at once', async () => {
    await carolHoldsOps();
    await onDesktop(a, async (s) => s.team.disableUser(CAROL, await s.team.userRevision(CAROL)));
    expect(await team.answer(a)).toBe('ok');
    expect(await bobWrites()).toBe('ok');
  }, 240_000);
});
