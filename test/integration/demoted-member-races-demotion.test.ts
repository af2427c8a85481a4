/**
 * Since the fix (the people part pushed first (electron/team/sync.ts partsOf) and the refused version pushed over (ReplicaService.overwriteRefused)), this passes; the
 * reviewer's text as written follows. Review round ten, hole 1b (same class as revoked-member-races-revoke): any change of the owner's
 * that reaches the server in a batch with an entry a member raced can be held off for ever by
 * that member, when the owner's desktop refuses the member's racing version locally. Here the
 * owner demotes bob to codes_only (no rotation at all: bb9db01's stuckOnHeld, not the kept key)
 * and edits Switch; bob, not yet told, edits Switch and syncs first. The owner's pull refuses
 * bob's version (his role here no longer edits) and sets it aside; its push of the demotion with
 * its own Switch edit conflicts on Switch every time, so every sync ends CONFLICT and the server
 * keeps bob a technician. Expected (safe): the demotion
 * reaches the server within a few syncs (the owner's edit kept, bob's as a copy or refused), and
 * bob's later edit is refused. Must never put a password in a process argument.
 */
import { describe, expect, it } from 'vitest';
import { BOB, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));
const { a, b, onDesktop, sync, teamClient, setPassword } = useTeamDesktops('crewvault-r10-demote', clock);

describe('a demoted member races the demotion with an edit', () => {
  it('does not keep the demotion off the server', async () => {
    // The owner's desktop caught up first (else hole 2, bind-then-demote-undone, undoes the demotion).
    expect((await sync(a)).code).toBe('ok');
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'codes_only', await s.team.userRevision(BOB)));
    await setPassword(a, 'Acme/Switch', 's-owner');
    await setPassword(b, 'Acme/Switch', 's-bob-race');
    expect((await sync(b)).code).toBe('ok');
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) {
      const out = await sync(a);
      answers.push(out.code === 'ok' ? 'ok' : `${out.code}: ${out.stderr.trim()}`);
    }
    // After three syncs of the owner's, the server still says what bob's role is.
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    let serverRole: string | undefined;
    for (const r of (await (await teamClient(a)).call('syncPull', { vault, since: 0 })).records) if (r.record.kind === 'user' && r.record.name === BOB) serverRole = r.record.role;
    expect({ answers, serverRole }).toEqual({ answers: ['ok', 'ok', 'ok'], serverRole: 'codes_only' });
  });
});
