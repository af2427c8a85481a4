/**
 * `crewvault sync` tells the people crossings it settled (#15, docs/SYNC.md "user and member
 * records on arrival"): a user record from elsewhere crossing a change of the same person made
 * here and not yet sent is settled field by field (replica-people-in.ts takeUser) and audited as
 * user.crossed; the sync now prints one line a person saying what was kept of each side, and
 * `--json` carries them (`crossed`). A real team server (PGlite, loopback HTTP), the owner's two
 * desktops (test/support/team-desktops.ts), the CLI's code. Must never put a password in a
 * process argument (answers go on the scripted stdin).
 */
import { describe, expect, it } from 'vitest';
import { BOB, CAROL, VAULT_LOGIN, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));
const team = useTeamDesktops('crewvault-sync-crossings', clock);
const { a, a2, onDesktop, cli, sync } = team;

interface SyncJson {
  readonly crossed: ReadonlyArray<{ readonly user: string; readonly detail: string }>;
}

describe('crewvault sync prints people crossings', () => {
  it('prints one line a person crossed (what was kept of each side), and --json carries them', async () => {
    // The owner's second desktop makes bob codes-only and syncs; the first, not told, disables him.
    await onDesktop(a2, async (s) => s.team.changeRole(BOB, 'codes_only', await s.team.userRevision(BOB)));
    expect((await sync(a2)).code).toBe('ok');
    await onDesktop(a, async (s) => s.team.disableUser(BOB, await s.team.userRevision(BOB)));
    clock.advance(1_000);
    const printed = await cli(a, ['sync', team.server.url, '--vault', a.file, '--user', VAULT_LOGIN.alice[0]], [VAULT_LOGIN.alice[1]]);
    const lines = printed.stdout.split('\n').filter((l) => l.startsWith('crewvault: '));
    expect(lines).toEqual(['crewvault: bob: a record from elsewhere crossed a change made here not yet sent; disabled here: kept.']);

    // Both change carol's role: the tighter (codes-only within team lead's) wins either way, and --json says so.
    await onDesktop(a2, async (s) => s.team.changeRole(CAROL, 'codes_only', await s.team.userRevision(CAROL)));
    expect((await sync(a2)).code).toBe('ok');
    await onDesktop(a, async (s) => s.team.changeRole(CAROL, 'team_lead', await s.team.userRevision(CAROL)));
    const json = await sync(a);
    expect(json.code, json.stderr).toBe('ok');
    const crossed = (JSON.parse(json.stdout) as SyncJson).crossed;
    expect(crossed.map((c) => c.user)).toEqual([CAROL]);
    expect(crossed[0]?.detail).toContain('both changed the role: codes_only from elsewhere taken over team_lead set here (the tighter)');
    // A sync crossing nothing says nothing of people.
    const quiet = await sync(a2);
    expect((JSON.parse(quiet.stdout) as SyncJson).crossed).toEqual([]);
    const file = await onDesktop(a, async (s) => (await s.team.listUsers()).filter((u) => u.name === BOB || u.name === CAROL).map((u) => `${u.name}:${u.role}:${u.disabled ? 'disabled' : 'enabled'}`).sort());
    expect(file).toEqual(['bob:codes_only:disabled', 'carol:codes_only:enabled']);
  });
});
