/**
 * A lead unmade after their revoke was stored ahead of its rotation (issue #15's give-way, replica-own-key.ts
 * giveWayToHeld). bob, a lead of Ops, revokes carol; his push stores the revoke (carol cut off on the server) and the
 * rotation is lost on the way. The owner then unmakes bob, and his desktop gives way to the version the server holds:
 * the rotation, never stored, is dropped, so Ops keeps the key carol held, and whatever is sealed under it from now on
 * a server handing it to her opens. His desktop dropped the revoke's note and told nobody; it must tell, at each sync,
 * that the key carol held was not changed, audited once, until someone who manages Ops changes it.
 * Real desktops (real vault files) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { auditedIn, bobLeadsOpsWithCarol, keptClient, losingRotations, opsOnServer, opsWrapsIn, outcomeOf, synced } from '../support/revoke-first';

describe('a lead unmade after their revoke was stored ahead of its rotation', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 14, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-lead-unmade-stored', clock);
  const { a, b, onDesktop } = team;

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('tells that the key carol held was not changed', async () => {
    const before = await opsOnServer(team);
    const v = before.version ?? 0;
    await onDesktop(b, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    const lost = await onDesktop(b, async (s) => outcomeOf(syncOnce(losingRotations(await keptClient(team, b, () => clock.now())), s.replica)));
    expect(lost).toMatch(/^SERVER_UNREACHABLE/);
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', BOB], version: v });
    await onDesktop(a, async (s) => s.team.setLead(team.opsId, BOB, false, await s.team.memberRevision(team.opsId, BOB)));
    expect(await team.answer(a)).toBe('ok');
    const told = await synced(team, b);
    expect(opsWrapsIn(team, b)).toEqual([`alice@${v}`, `${BOB}@${v}`]);
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', BOB], version: v });
    expect(told.revokesUnmade).toBe(KEY_KEPT_CAROL);
    expect((await synced(team, b)).revokesUnmade).toBe(KEY_KEPT_CAROL);
    expect(auditedIn(b, 'group.revoke_unmade')).toBe(1);
    // The owner changes Ops's key (carol granted again and revoked, a rotation): the line stops.
    await onDesktop(a, async (s) => s.team.grant(team.opsId, CAROL, false, await s.team.groupRevision(team.opsId)));
    expect(await team.answer(a)).toBe('ok');
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    expect(await team.answer(a)).toBe('ok');
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', BOB], version: v + 1 });
    expect((await synced(team, b)).revokesUnmade).toBeUndefined();
    expect(auditedIn(b, 'group.revoke_unmade')).toBe(1);
  }, 240_000);
});

const KEY_KEPT_CAROL = 'Removed on the server, the key not changed: carol from Ops (you no longer manage the group, and your key change, never sent, was undone): what is written there stays under the key they held until an owner or admin changes it.';
