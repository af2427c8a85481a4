/**
 * A lead unmade, while their own revoke waits, by the very co-lead that revoke removes (issue #15's give-way,
 * replica-own-key.ts giveWayToHeld). bob and carol both lead Ops; bob revokes carol (a rotation, unsent), and before it
 * goes carol, still a lead on the server, unmakes bob. His desktop judged the unmaking's signer by what it holds now,
 * where its own revoke took carol's wrap away: set aside as from someone not managing Ops (VAULT_TAMPERED), it read
 * itself a lead still and pushed the revoke and rotation the server refused (FORBIDDEN) at every sync, for good. Her
 * signature is judged as the server last agreed (takeRevokeUnderOwnRotation's rule): the desktop gives way, the revoke told.
 * Real desktops (real vault files, the CLI's sync) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BOB, CAROL, setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { auditedIn, bobLeadsOpsWithCarol, opsOnServer, opsWrapsIn, synced, UNDONE_CAROL } from '../support/revoke-first';

describe('a lead unmade by the co-lead their waiting revoke removes', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 18, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-lead-unmade-by-revoked', clock);
  const { a, b, c, onDesktop } = team;

  beforeAll(async () => {
    await bobLeadsOpsWithCarol(team);
    await onDesktop(a, async (s) => {
      await s.team.changeRole(CAROL, 'team_lead', await s.team.userRevision(CAROL));
      await s.team.setLead(team.opsId, CAROL, true, await s.team.memberRevision(team.opsId, CAROL));
    });
    for (const d of [a, b, c]) expect(await team.answer(d)).toBe('ok');
  }, 240_000);

  it('gives way to the version the server holds', async () => {
    const before = await opsOnServer(team);
    const v = before.version ?? 0;
    await onDesktop(b, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    await onDesktop(c, async (s) => s.team.setLead(team.opsId, BOB, false, await s.team.memberRevision(team.opsId, BOB)));
    expect(await team.answer(c)).toBe('ok');
    const answers: string[] = [];
    for (const d of [b, b]) answers.push(`${d.name}: ${await team.answer(d)}`);
    expect(answers).toEqual(['b: ok', 'b: ok']);
    expect({ server: await opsOnServer(team), wraps: opsWrapsIn(team, b), aside: setAsideOn(b) })
      .toEqual({ server: { holders: ['alice', BOB, CAROL], version: v }, wraps: [`alice@${v}`, `${BOB}@${v}`, `${CAROL}@${v}`], aside: [] });
    expect((await synced(team, b)).revokesUnmade).toBe(UNDONE_CAROL);
    expect(auditedIn(b, 'group.revoke_unmade')).toBe(1);
  }, 240_000);
});
