/**
 * Since the fix (the server refusing entry writes the role may not make (server/sync/membership.ts requireRoleMayWrite), and desktops pushing over a refused version), this passes; the
 * reviewer's text as written follows. Review round ten, hole 3: a codes-only member freezes an entry, and every change of any desktop
 * that edits it, for ever. The team server checks only that an entry's pusher is a member of its
 * group (server/sync/membership.ts checkEntries), never that their role may edit; every desktop
 * refuses the record (its sender may not edit here: VAULT_TAMPERED, set aside); and since bb9db01
 * (electron/team/sync.ts stuckOnHeld) a push that conflicts with a record set aside ends the sync
 * in CONFLICT (before: BUSY). The owner demotes bob to codes_only (synced, the server says so);
 * bob pushes, from his desktop as it stood, an edit of Switch straight to the server (the server
 * stores it); the owner then edits Switch and Firewall: every sync of the owner's answers
 * CONFLICT and nothing of it reaches the server, Firewall included (the batch is one). Expected
 * (safe): the server refuses bob's push (FORBIDDEN), or the owner's desktop can push over a record
 * it refuses. Must never put a password in a process argument.
 */
import { describe, expect, it } from 'vitest';
import { BOB, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));
const { a, b, onDesktop, sync, teamClient, setPassword } = useTeamDesktops('crewvault-r10-codesjam', clock);

describe('a codes-only member pushes an edit of an entry', () => {
  it('is refused by the server, or cannot keep the owner\'s changes off it', async () => {
    expect((await sync(a)).code).toBe('ok');
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'codes_only', await s.team.userRevision(BOB)));
    expect((await sync(a)).code).toBe('ok');
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const serverRole = async (): Promise<string | undefined> => {
      const users = (await (await teamClient(a)).call('syncPull', { vault, since: 0 })).records;
      for (const r of users) if (r.record.kind === 'user' && r.record.name === BOB) return r.record.role;
      return undefined;
    };
    expect(await serverRole()).toBe('codes_only');
    // Bob's desktop, not synced since his demotion, edits Switch; its batch is pushed as it stands.
    await setPassword(b, 'Acme/Switch', 's-codes-only');
    const bobs = await onDesktop(b, (s) => s.replica.outgoing());
    const pushed = await (await teamClient(b)).call('syncPush', { batch: bobs.batch }).then(() => 'stored', (error: unknown) => (error as { code?: string }).code ?? 'error');
    // The owner edits Switch and Firewall and syncs.
    await setPassword(a, 'Acme/Switch', 's-owner');
    await setPassword(a, 'Acme/Firewall', 'f-owner');
    const answers: string[] = [];
    for (let i = 0; i < 2; i++) answers.push((await sync(a)).code);
    // Either the server refused bob's push, or the owner's syncs got through.
    expect(pushed === 'FORBIDDEN' || answers.every((x) => x === 'ok'), `bob's push: ${pushed}; the owner's syncs: ${answers.join(', ')}`).toBe(true);
  });
});
