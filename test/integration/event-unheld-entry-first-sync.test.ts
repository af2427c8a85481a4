/**
 * A first sync from the server's snapshot takes a revoked member's event naming an entry nobody was
 * sent (#15's emptied tombstone), though the joining desktop never held that membership: the
 * snapshot's state hands it the member's signed revoked record, which leaves no row there, and it is
 * noted (replica-people-in.ts takeMember, store-replica-people.ts noteMemberKnown), so the history's
 * event is judged by it (event-author.ts mayHaveHeldGroup). bob is granted Lab, a group made after
 * carol's second desktop was copied, makes an entry in it offline, and is revoked before he syncs:
 * his desktop drops the entry and sends the event of its making. carol, made an admin (so her
 * first sync is handed every event whole), joins on her second desktop: nothing set aside, the event
 * in her log, her history verifying. Without the note, the event and bob's chain after it waited
 * there for good. A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync.
 * Must never put a password in a process argument.
 */
import { describe, expect, it } from 'vitest';
import { BOB, CAROL, setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 8, 2, 0, 0));
const team = useTeamDesktops('crewvault-event-held-first', clock, { firstSyncCarol: 'later' });
const { a, b, c, c2, onDesktop, answer } = team;

describe('a first sync after a member\'s revoke', () => {
  it('takes the member\'s event naming the entry they made in the group offline', async () => {
    const lab = await onDesktop(a, async (s) => {
      const group = await s.team.createGroup('Lab');
      await s.team.grant(group.id, BOB, false, await s.team.groupRevision(group.id));
      return group.id;
    });
    expect(await answer(a)).toBe('ok');
    expect(await answer(b)).toBe('ok');
    clock.advance(1_000);
    await onDesktop(b, (s) => s.createEntry({ customer: 'Acme', title: 'Lab Scope', password: 'scope-1', groupId: lab }));
    await onDesktop(a, async (s) => {
      await s.team.revoke(lab, BOB, await s.team.memberRevision(lab, BOB));
      await s.team.changeRole(CAROL, 'admin', await s.team.userRevision(CAROL));
    });
    expect(await answer(a)).toBe('ok');
    expect(await answer(b)).toBe('ok');
    expect(await answer(a)).toBe('ok');
    expect(setAsideOn(a)).toEqual([]);
    // carol's second desktop joins: the snapshot's state (bob's revoke in it), then the history (his event in it).
    expect(await answer(c2)).toBe('ok');
    expect(setAsideOn(c2)).toEqual([]);
    const made = await onDesktop(c2, async (s) => (await s.auditLog()).filter((r) => r.actor === BOB && r.action === 'entry.create' && r.detail.includes('Lab Scope')).length);
    expect(made, 'bob\'s making of Lab Scope in the log of carol\'s new desktop').toBe(1);
    expect(await onDesktop(c2, async (s) => (await s.verifyAuditLog()).chain)).toMatchObject({ ok: true });
    // Her first desktop, which held no row of bob in Lab either, takes it by the same note at its next pull.
    expect(await answer(c)).toBe('ok');
    expect(setAsideOn(c)).toEqual([]);
  });
});
