/**
 * A lead unmade while a rotation of their own waits (issue #15, older than the revoke going first). bob, a lead of Ops,
 * revokes carol on his desktop (a rotation, unsent); before it goes, the owner unmakes bob as lead at the version the
 * server holds, below the one bob's desktop rotated to. His desktop took the unmaking as nothing (a wrap below its own
 * rotation: replica-people-in.ts takeMember), still read itself a lead, and pushed its revoke and rotation, which the
 * server refused (FORBIDDEN) at every sync, for good. Now it gives way to the version the server holds
 * (replica-own-key.ts giveWayToHeld): its rotation is dropped, nobody is wrapped at its version, the password bob set
 * under it lands under the key held (carol, still a member, reads it), and his revoke of carol, which he may no longer
 * make, is told at each sync and audited once (an owner or admin must make it) until the owner's revoke of her lands.
 * Real desktops (real vault files, the CLI's sync) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { auditedIn, bobLeadsOpsWithCarol, opsOnServer, opsWrapsIn, switchPasswordOn, synced, UNDONE_CAROL } from '../support/revoke-first';

describe('a lead unmade while their own revoke waits', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 11, 0, 0));
  const team = useTeamDesktops('crewvault-revoke-first-lead-unmade', clock);
  const { a, b, c, onDesktop } = team;

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('does not leave the lead\'s desktop refused at every sync', async () => {
    const before = await opsOnServer(team);
    await onDesktop(b, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    // Written under bob's new key, after his revoke: he may still write in Ops, so it must land.
    await team.setPassword(b, 'Acme/Switch', 's-bob');
    await onDesktop(a, async (s) => s.team.setLead(team.opsId, BOB, false, await s.team.memberRevision(team.opsId, BOB)));
    expect(await team.answer(a)).toBe('ok');
    const answers: string[] = [];
    for (const d of [b, b]) answers.push(`${d.name}: ${await team.answer(d)}`);
    expect(answers).toEqual(['b: ok', 'b: ok']);
    expect(await opsOnServer(team)).toEqual({ holders: ['alice', BOB, CAROL], version: before.version });
    // Bob's desktop holds Ops at the server's version, carol in it, and nobody at the version it dropped.
    const v = before.version ?? 0;
    expect(opsWrapsIn(team, b)).toEqual([`alice@${v}`, `${BOB}@${v}`, `${CAROL}@${v}`]);
    expect(await onDesktop(b, async (s) => (await s.team.listGroups()).find((g) => g.id === team.opsId)?.lead)).toBe(false);
    // His edit reached everyone holding Ops, carol too (under the key she holds).
    for (const d of [a, c]) await synced(team, d);
    expect({ a: await switchPasswordOn(team, a), c: await switchPasswordOn(team, c) }).toEqual({ a: 's-bob', c: 's-bob' });
  }, 240_000);

  it('tells the revoke it could not make at each sync, audited once, until an owner\'s revoke lands', async () => {
    expect((await synced(team, b)).revokesUnmade).toBe(UNDONE_CAROL);
    expect(auditedIn(b, 'group.revoke_unmade')).toBe(1);
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    await synced(team, a);
    const after = await synced(team, b);
    expect(after.revokesUnmade).toBeUndefined();
    expect(auditedIn(b, 'group.revoke_unmade')).toBe(1);
    expect((await opsOnServer(team)).holders).toEqual(['alice', BOB]);
  }, 240_000);
});
