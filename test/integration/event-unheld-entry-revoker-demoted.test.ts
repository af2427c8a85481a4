/**
 * A revoked member's event naming the entry he made offline in the group (#15's tombstone), taken
 * on a desktop that learns of the membership only after the admin who revoked him was disabled
 * (hostile review of 940f723, whose notes of a membership count only by a signer who manages the
 * group here: event-author.ts mayHaveHeldGroup). carol, an admin, revokes bob from Lab, where he
 * made an entry offline; the owner then disables carol. The owner's second desktop, a copy from
 * before Lab, takes it all in one pull: nothing set aside, bob's event in its log, its history
 * verifying. A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync.
 * Must never put a password in a process argument.
 */
import { describe, expect, it } from 'vitest';
import { BOB, CAROL, setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 8, 4, 0, 0));
const team = useTeamDesktops('crewvault-event-revoker-disabled', clock);
const { a, a2, b, c, onDesktop, answer } = team;

describe('a revoke signed by an admin demoted since', () => {
  it('lets the revoked member\'s event of his offline entry in on a desktop that held no row of him', async () => {
    const lab = await onDesktop(a, async (s) => {
      const group = await s.team.createGroup('Lab');
      await s.team.grant(group.id, BOB, false, await s.team.groupRevision(group.id));
      await s.team.changeRole(CAROL, 'admin', await s.team.userRevision(CAROL));
      return group.id;
    });
    expect(await answer(a)).toBe('ok');
    expect(await answer(b)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    clock.advance(1_000);
    await onDesktop(b, (s) => s.createEntry({ customer: 'Acme', title: 'Lab Scope', password: 'scope-1', groupId: lab }));
    await onDesktop(c, async (s) => s.team.revoke(lab, BOB, await s.team.memberRevision(lab, BOB)));
    expect(await answer(c)).toBe('ok');
    expect(await answer(b)).toBe('ok');
    expect(await answer(a)).toBe('ok');
    expect(setAsideOn(a), 'the owner takes it (her role)').toEqual([]);
    await onDesktop(a, async (s) => s.team.changeRole(CAROL, 'technician', await s.team.userRevision(CAROL)));
    expect(await answer(a)).toBe('ok');
    // The owner's second desktop, a copy from before Lab, takes carol's demotion, Lab, bob's revoke and his event.
    expect(await answer(a2)).toBe('ok');
    expect(setAsideOn(a2).join('\n')).toBe('');
    const made = await onDesktop(a2, async (s) => (await s.auditLog()).filter((r) => r.actor === BOB && r.action === 'entry.create' && r.detail.includes('Lab Scope')).length);
    expect(made, 'bob\'s making of Lab Scope in the log of the owner\'s second desktop').toBe(1);
    expect(await onDesktop(a2, async (s) => (await s.verifyAuditLog()).chain)).toMatchObject({ ok: true });
  });
});
