/**
 * Review round ten, what held (#15): an owner's demotion and disabling of people bound to server
 * accounts reach the team server and the person's own desktop, once the owner's desktop has pulled
 * since the binding (the case without that pull is review round ten's hole 2, kept apart in its
 * report). A real server (PGlite, loopback HTTP), the real `crewvault sync` code, a private Secret
 * Service, accounts bound as `crewvault user bind` does (the binding pushed by the owner).
 * Must never: put a password in a process argument (answers go on the scripted stdin).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock, OWNER } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));
const { a, b, onDesktop, sync, teamClient } = useTeamDesktops('crewvault-review-ten', clock);

describe('review round ten: a demotion and a disabling after a pull', () => {
  it('reach the server and the demoted person\'s desktop', async () => {
    expect((await sync(a)).code).toBe('ok');
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'codes_only', await s.team.userRevision(BOB)));
    await onDesktop(a, async (s) => s.team.disableUser(CAROL, await s.team.userRevision(CAROL)));
    for (let i = 0; i < 2; i++) expect((await sync(a)).code).toBe('ok');
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const onServer = (await (await teamClient(a)).call('syncPull', { vault, since: 0 })).records
      .flatMap((r) => (r.record.kind === 'user' && r.record.name !== OWNER ? [{ name: r.record.name, role: r.record.role, disabled: r.record.disabledAt === null ? 0 : 1 }] : []))
      .sort((x, y) => x.name.localeCompare(y.name));
    const want = [{ name: 'bob', role: 'codes_only', disabled: 0 }, { name: 'carol', role: 'technician', disabled: 1 }];
    expect(onServer).toEqual(want);
    expect((await sync(b)).code).toBe('ok');
    for (const d of [a, b]) {
      const file = new Database(d.file, { readonly: true });
      try {
        expect(file.prepare("SELECT name, role, disabled_at IS NOT NULL AS disabled FROM users WHERE name IN ('bob', 'carol') ORDER BY name").all(), d.name).toEqual(want);
      } finally {
        file.close();
      }
    }
  });
});
