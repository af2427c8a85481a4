/**
 * Hostile review of the revoke going ahead of its rotation (electron/team/sync.ts partsOf), second round:
 * as revoke-first-revoked-lead.test.ts, a lead revoked while their own rotation of the group waits, but
 * the owner's rotation lands before the lead's desktop pulls: the rotation's record (at the version
 * the lead's desktop rotated to, with no wrap for them) and the revoke below it come in one pull. The
 * record was taken as nothing (the same version), the revoke as one under a rotation of the desktop's
 * own (replica-people-in.ts takeRevokeUnderOwnRotation), which left this person's removal to a record
 * at their version that never comes: the desktop kept Ops and every push of it was refused (FORBIDDEN).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { bobLeadsOpsWithCarol, holdsOps, opsMembersOn, opsOnServer } from '../support/revoke-first';

describe('a lead revoked while their own revoke waits, the owner\'s rotation landed before they pull', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 10, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-revoked-lead-landed', clock);
  const { a, b, c, onDesktop } = team;

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('cuts the lead off, the rotation\'s record and the revoke below it in the same pull', async () => {
    const before = await opsOnServer(team);
    await onDesktop(b, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    expect(await team.answer(a)).toBe('ok');
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', CAROL], version: (before.version ?? 0) + 1 });
    const answers: string[] = [];
    for (const d of [b, c, a, b]) answers.push(`${d.name}: ${await team.answer(d)}`);
    expect(answers).toEqual(['b: ok', 'c: ok', 'a: ok', 'b: ok']);
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', CAROL], version: (before.version ?? 0) + 1 });
    expect({ a: await opsMembersOn(team, a), b: await holdsOps(team, b), c: await holdsOps(team, c) }).toEqual({ a: ['alice', CAROL], b: false, c: true });
  }, 240_000);
});
