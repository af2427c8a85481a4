/**
 * Review round ten, hole 2: an owner's demotion and disabling of a person are silently undone by
 * the next sync when the owner's desktop has not pulled since that person's account was bound.
 * `crewvault user bind` (electron/cli/user-bind.ts) pushes the binding (the person's user record
 * with `account`, at the revision the desktop holds) straight to the server, outside the replica,
 * so the desktop never agrees it. Here, as team-membership.test's set-up does the same, the owner
 * binds bob and carol, then (no sync in between) makes bob codes_only and disables carol: the sync
 * answers ok, and afterwards both the owner's file and the server say bob is a technician and carol
 * enabled. Nothing tells the owner. The same with a pull first (R10 control below) keeps both
 * changes. Expected (safe): the changes reach the server, or the sync says they could not.
 * Must never put a password in a process argument.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock, OWNER } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));
const { a, onDesktop, sync, teamClient } = useTeamDesktops('crewvault-r10-bindundo', clock);

describe('an owner demotes and disables bound people before the next pull', () => {
  it('keeps the demotion and the disabling (on the owner\'s file and on the server)', async () => {
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'codes_only', await s.team.userRevision(BOB)));
    await onDesktop(a, async (s) => s.team.disableUser(CAROL, await s.team.userRevision(CAROL)));
    const answers: string[] = [];
    for (let i = 0; i < 2; i++) answers.push((await sync(a)).code);
    const file = new Database(a.file, { readonly: true });
    const local = file.prepare("SELECT name, role, disabled_at IS NOT NULL AS disabled FROM users WHERE name IN ('bob', 'carol') ORDER BY name").all();
    file.close();
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const onServer = (await (await teamClient(a)).call('syncPull', { vault, since: 0 })).records
      .flatMap((r) => (r.record.kind === 'user' && r.record.name !== OWNER ? [{ name: r.record.name, role: r.record.role, disabled: r.record.disabledAt === null ? 0 : 1 }] : []))
      .sort((x, y) => x.name.localeCompare(y.name));
    const want = [{ name: 'bob', role: 'codes_only', disabled: 0 }, { name: 'carol', role: 'technician', disabled: 1 }];
    expect({ answers, local, onServer }).toEqual({ answers: ['ok', 'ok'], local: want, onServer: want });
  });
});
