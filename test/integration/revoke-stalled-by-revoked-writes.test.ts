/**
 * FAILING BY DESIGN (side branch repro-rotrev2-stall; hostile review of 597ea4c, question 1): the member a
 * revoke cuts off holds it back for as long as he writes. The owner revokes bob from Ops; before each of the
 * owner's pushes bob adds an entry to Ops under the old key and syncs (a desktop writing steadily lands in
 * the window between the owner's pull and push). The server refuses the rotation each time (strayEntriesOf:
 * an entry stored after the pusher's pulls under the old key; a manager renaming the group does the same
 * through groupsChangedUnseen); after PUSH_ROUNDS the sync ends BUSY, nothing of the revoke stored, bob still
 * a member on the server, and the next sync meets the same. Expected: the revoke lands.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import type { ServerRouteInput, ServerRouteName, ServerRouteOutput } from '../../shared/api/server-contract';
import { recordsAfter } from '../../server/store/sync';
import { BOB, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 13, 0, 0));
const team = useTeamDesktops('crewvault-revoke-stalled', clock);
const { a, b, onDesktop, sync } = team;

describe('a revoke while the revoked member keeps writing in the group', () => {
  it('lands all the same', async () => {
    const ops = team.opsId;
    await onDesktop(a, async (s) => s.team.revoke(ops, BOB, await s.team.memberRevision(ops, BOB)));
    let n = 0;
    const bobWrites = async (): Promise<void> => {
      clock.advance(1_000);
      n++;
      await onDesktop(b, (s) => s.createEntries([{ customer: 'Acme', title: `Switch ${n}`, password: `s-${n}`, groupId: ops }]));
      expect((await sync(b)).code).toBe('ok');
    };
    const kept = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
    const call = kept.client.call.bind(kept.client);
    kept.client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
      if (name === 'syncPush') await bobWrites();
      return call(name, input, sent);
    };
    const outcome = await onDesktop(a, (s) => syncOnce(kept.client, s.replica).then(() => 'ok', (error: unknown) => String(error)));
    expect(outcome).toBe('ok');
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const rows = await team.server.database.transaction((tx) => recordsAfter(tx, vault, 0, 100_000, Number.MAX_SAFE_INTEGER));
    const revokes = rows.map((row) => JSON.parse(row.body) as { kind: string; revoked?: boolean }).filter((r) => r.kind === 'member' && r.revoked === true);
    expect(revokes.length).toBeGreaterThan(0);
  }, 180_000);
});
