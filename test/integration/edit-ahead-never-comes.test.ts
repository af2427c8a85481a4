/**
 * An edit whose event came here ahead of its record, and whose record never comes, turns no later decision
 * (hostile review of b93ad33). carol's custom role Tech loses entries.edit while she holds an unsent edit of
 * Token in Lab: her edit waits on her desktop, its `entry.edit` event goes, and the owner takes it (noted:
 * store-edits-ahead.ts). The owner deletes Token on his desktop, not yet sent; his second desktop removes carol
 * from Lab, which re-seals Token (one write past what the owner agreed, by the owner) and drops carol's edit on
 * her desktop for good. The owner's delete must stand: the re-seal is the only write since he agreed Token, so
 * carol's edit is in no record of it. Before: the note counted any next record of Token as edited elsewhere, so
 * the re-seal was taken over the owner's delete and the delete was lost, nobody told.
 * A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync (test/support/team-desktops.ts).
 */
import { describe, expect, it } from 'vitest';
import { CAROL, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 12, 0, 0));
const team = useTeamDesktops('crewvault-edit-ahead-never-comes', clock);
const { a, a2, c, onDesktop, answer, setPassword } = team;

const TECH = ['entries.view', 'passwords.reveal', 'otp.view', 'entries.create', 'entries.edit'];
const NO_EDIT = ['entries.view', 'passwords.reveal', 'otp.view', 'entries.create'];

async function titlesOn(d: Desktop): Promise<string[]> {
  return onDesktop(d, async (s) => (await s.listEntries()).map((e) => e.title));
}

describe('carol\'s edit whose event went ahead of it and that never comes', () => {
  it('does not make a re-seal made elsewhere win over the owner\'s unsent delete', async () => {
    const labId = await onDesktop(a, async (s) => {
      await s.team.defineRole('Tech', TECH, 0);
      await s.team.changeRole(CAROL, 'Tech', await s.team.userRevision(CAROL));
      const lab = await s.team.createGroup('Lab');
      await s.team.grant(lab.id, CAROL, false, await s.team.groupRevision(lab.id));
      await s.createEntries([{ customer: 'Acme', title: 'Token', password: 't-1', groupId: lab.id }]);
      return lab.id;
    });
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    await setPassword(c, 'Acme/Token', 't-carol');
    await onDesktop(a, async (s) => s.team.defineRole('Tech', NO_EDIT, await s.team.roleRevision('Tech')));
    expect(await answer(a)).toBe('ok');
    // Her edit waits; its event goes, and the owner takes it.
    expect(await answer(c)).toBe('ok');
    expect(await answer(a)).toBe('ok');
    clock.advance(1_000);
    await onDesktop(a, async (s) => {
      const entry = await s.resolvePath('Acme/Token');
      await s.deleteEntry(entry.id, entry.revision ?? -1);
    });
    // The owner's second desktop removes carol from Lab: Token re-sealed, her edit never to come.
    clock.advance(1_000);
    expect(await answer(a2)).toBe('ok');
    await onDesktop(a2, async (s) => s.team.revoke(labId, CAROL, await s.team.memberRevision(labId, CAROL)));
    expect(await answer(a2)).toBe('ok');
    expect(await answer(a)).toBe('ok');
    expect(await titlesOn(a), 'the owner\'s delete on his desktop').not.toContain('Token');
    expect(await answer(a2)).toBe('ok');
    expect(await titlesOn(a2), 'the owner\'s delete on the team').not.toContain('Token');
  });
});
