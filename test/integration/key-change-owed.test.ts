/**
 * A key change owed, learnt on every desktop (issue #15, docs/SYNC.md "A key change owed"). The owner revokes bob from
 * Ops on desktop a; its push stores the revoke (bob cut off on the server) and loses the rotation on the way, and a is
 * never synced again (abandoned). Ops keeps the key bob held, and before only a could tell it. Every other desktop
 * now notes it from the signed revoke alone (taken in at the version it holds, no rotation past it), and tells it to
 * those who manage Ops (the owner's other desktop a2), not to a member who does not (carol, a technician); a manager
 * changes the key (team.ts rotateKey, `crewvault group rotate`), a member may not; the rotation landed, the note goes
 * everywhere; and an old revoke a dishonest server plays back after it plants nothing.
 * Real desktops (real vault files) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { syncOnce, type SyncOutcome } from '../../electron/team/sync';
import { CrewvaultError } from '../../shared/errors';
import type { ReplicaRecord } from '../../shared/sync/records';
import { lastPageAlsoCarries, pullsKeeping } from '../support/played-back';
import { auditedIn, keptClient, losingRotations, opsOnServer, opsWrapsIn, outcomeOf, synced } from '../support/revoke-first';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { owedIn } from '../support/key-change-owed';
import { manualClock, OWNER, PASSWORD } from '../support/vault';

const OWED_BOB = 'bob was removed from Ops on the server, but its key has not been changed since: what is written there stays under the key bob held. Change it: crewvault group rotate Ops (or the Groups screen).';

describe('a revoke stored whose revoking desktop is abandoned before its rotation', () => {
  const clock = manualClock(Date.UTC(2026, 11, 9, 9, 0, 0));
  const team = useTeamDesktops('crewvault-key-change-owed', clock);
  const { a, a2, c, onDesktop } = team;
  /** bob's revoke as a2's pull handed it (what a dishonest server keeps, to play back later). */
  const kept: ReplicaRecord[] = [];
  let v = 0;

  beforeAll(async () => {
    // carol, a technician, joins Ops: a member who does not manage it.
    await onDesktop(a, async (s) => s.team.grant(team.opsId, CAROL, false, await s.team.groupRevision(team.opsId)));
    for (const d of [a, a2, team.b, c]) expect(await team.answer(d), d.name).toBe('ok');
    v = (await opsOnServer(team)).version ?? 0;
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    const lost = await onDesktop(a, async (s) => outcomeOf(syncOnce(losingRotations(await keptClient(team, a, () => clock.now())), s.replica)));
    expect(lost).toMatch(/^SERVER_UNREACHABLE/);
    // Desktop a is never synced again from here.
    expect(await opsOnServer(team)).toEqual({ holders: [OWNER, CAROL], version: v });
  }, 240_000);

  it('is told to those who manage the group on their other desktops, not to a member who does not', async () => {
    const keepRevoke = (r: ReplicaRecord): boolean => r.kind === 'member' && r.revoked;
    const told = await onDesktop(a2, async (s): Promise<SyncOutcome> => syncOnce(pullsKeeping(await keptClient(team, a2, () => clock.now()), keepRevoke, kept), s.replica));
    expect(kept).toHaveLength(1);
    expect(told.keyChangesOwed).toBe(OWED_BOB);
    expect(told.revokesWaiting).toBeUndefined();
    expect(opsWrapsIn(team, a2)).toEqual([`${OWNER}@${v}`, `${CAROL}@${v}`]);
    // Told again at each sync while it stands.
    expect((await synced(team, a2)).keyChangesOwed).toBe(OWED_BOB);
    // carol's desktop takes the revoke in and notes it, but she does not manage Ops: nothing told.
    const carol = await synced(team, c);
    expect(carol.keyChangesOwed).toBeUndefined();
    expect(owedIn(c)).toHaveLength(1);
  }, 240_000);

  it('may not be changed by a member who does not manage the group', async () => {
    const refused = await onDesktop(c, async (s) => s.team.rotateKey(team.opsId).then(() => 'ok', (error: unknown) => (error instanceof CrewvaultError ? error.code : String(error))));
    expect(refused).toBe('FORBIDDEN');
    expect(opsWrapsIn(team, c)).toEqual([`${OWNER}@${v}`, `${CAROL}@${v}`]);
    expect(auditedIn(c, 'group.key_rotated')).toBe(0);
    expect(await team.answer(c)).toBe('ok');
    expect(await opsOnServer(team)).toEqual({ holders: [OWNER, CAROL], version: v });
  }, 120_000);

  it('is changed by a manager (crewvault group rotate): the rotation lands without bob, and the note goes everywhere', async () => {
    // The CLI prints the line after a sync.
    const printed = await team.cli(a2, ['sync', team.server.url, '--vault', a2.file, '--user', OWNER], [PASSWORD]);
    expect(printed.stdout).toContain(`crewvault: ${OWED_BOB}`);
    const rotated = await team.cli(a2, ['group', 'rotate', 'Ops', '--vault', a2.file, '--user', OWNER], [PASSWORD]);
    expect(rotated.stdout).toBe('Ops has a new key; the next sync sends it.\n');
    expect(auditedIn(a2, 'group.key_rotated')).toBe(1);
    const sent = await synced(team, a2);
    expect(sent.keyChangesOwed).toBeUndefined();
    expect(await opsOnServer(team)).toEqual({ holders: [OWNER, CAROL], version: v + 1 });
    expect(owedIn(a2)).toEqual([]);
    const carol = await synced(team, c);
    expect(carol.keyChangesOwed).toBeUndefined();
    expect(opsWrapsIn(team, c)).toEqual([`${OWNER}@${v + 1}`, `${CAROL}@${v + 1}`]);
    expect(owedIn(c)).toEqual([]);
    expect((await synced(team, a2)).keyChangesOwed).toBeUndefined();
  }, 240_000);

  it('an old revoke a server plays back after the rotation notes nothing', async () => {
    const revoke = kept[0];
    if (revoke === undefined) throw new Error('bob\'s revoke was not kept');
    const replayed = await onDesktop(a2, async (s): Promise<SyncOutcome> => syncOnce(lastPageAlsoCarries(await keptClient(team, a2, () => clock.now()), revoke), s.replica));
    expect(replayed.keyChangesOwed).toBeUndefined();
    expect(owedIn(a2)).toEqual([]);
    expect((await synced(team, a2)).keyChangesOwed).toBeUndefined();
  }, 120_000);
});
