/**
 * A revoke goes ahead of its rotation (electron/team/sync.ts partsOf): a member the rotation keeps,
 * writing in the group between each of the owner's pulls and pushes, each more than the hold a refused
 * key change puts on the group apart (server/store/rotation-claims.ts; within it, the key change lands:
 * rotation-claim.test.ts), still holds the rotation off (each of its parts meets a new entry under the
 * old key, strayEntriesOf), but no longer the revoke.
 * The owner revokes bob from Ops while carol, kept, writes there before every push of the owner's:
 * bob is cut off on the server after the first part; the sync ends BUSY, and says so of the revoke
 * (revokesWaitingLine); a sync without carol writing lands the rotation, and the line is gone.
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import { uidText } from '../../electron/vault/ids';
import type { ServerRouteInput, ServerRouteName, ServerRouteOutput } from '../../shared/api/server-contract';
import { getGroup, getMembership } from '../../server/store/membership';
import { ROTATION_CLAIM_MS } from '../../server/store/rotation-claims';
import { BOB, CAROL, groupUidIn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 17, 0, 0));
const team = useTeamDesktops('crewvault-revoke-waiting-told', clock);
const { a, b, c, onDesktop, sync } = team;

/** A user's global id as the vault file at `file` holds it. */
function userUidIn(file: string, name: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return uidText((db.prepare('SELECT uid FROM users WHERE name = ?').get(name) as { uid: Buffer }).uid);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  // Carol joins Ops; every desktop takes it in.
  await onDesktop(a, async (s) => s.team.grant(team.opsId, CAROL, false, await s.team.groupRevision(team.opsId)));
  for (const d of [a, b, c]) expect((await sync(d)).code, d.name).toBe('ok');
}, 180_000);

describe('a revoke while a member the rotation keeps writes in the group', () => {
  it('cuts the revoked member off at once; the sync that cannot land the key change says so', async () => {
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const ops = groupUidIn(a.file, team.opsId);
    const bob = userUidIn(a.file, BOB);
    const onServer = (): Promise<{ readonly bob: boolean; readonly version: number | undefined }> => team.server.database.transaction(async (tx) => ({
      bob: (await getMembership(tx, vault, ops, bob)) !== undefined, version: (await getGroup(tx, vault, ops))?.keyVersion,
    }));
    const before = await onServer();
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
    const seen: Array<{ readonly bob: boolean; readonly version: number | undefined }> = [];
    let n = 0;
    const kept = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
    const call = kept.client.call.bind(kept.client);
    kept.client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
      if (name === 'syncPush') {
        seen.push(await onServer());
        // Past the hold a refused key change puts on the group (server/store/rotation-claims.ts): a desktop slower than it.
        clock.advance(ROTATION_CLAIM_MS + 1_000);
        n++;
        await onDesktop(c, (s) => s.createEntries([{ customer: 'Acme', title: `Carol ${n}`, password: `c-${n}`, groupId: team.opsId }]));
        expect((await sync(c)).code).toBe('ok');
      }
      return call(name, input, sent);
    };
    const outcome = await onDesktop(a, (s) => syncOnce(kept.client, s.replica).then(() => 'ok', (error: unknown) => String(error)));
    // Bob was a member before the first part only; the rotation never landed.
    expect(seen[0]).toEqual({ bob: true, version: before.version });
    expect(seen.slice(1)).toEqual(seen.slice(1).map(() => ({ bob: false, version: before.version })));
    expect(await onServer()).toEqual({ bob: false, version: before.version });
    expect(outcome).toBe(`CrewvaultError: Others kept changing the same entries while this desktop pushed: sync again. bob no longer reaches Ops on the server; its key change waits: entries written there since stay under the key bob held. Sync again to send the rest.`);
    // Bob's desktop takes his removal.
    expect(await team.answer(b)).toBe('ok');
    expect((await onDesktop(b, (s) => s.team.listGroups())).map((g) => g.name)).not.toContain('Ops');
    // A quiet sync lands the rotation; nothing waits any more, and nothing is told of it.
    const quiet = await onDesktop(a, async (s) => syncOnce((await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now())).client, s.replica));
    expect(quiet.revokesWaiting).toBeUndefined();
    expect(await onServer()).toEqual({ bob: false, version: (before.version ?? 0) + 1 });
    expect(await team.answer(c)).toBe('ok');
  }, 180_000);
});
