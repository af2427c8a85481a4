/**
 * Review R1: a rotation beside an entry made elsewhere (docs/SYNC.md "An edit crossing a
 * rotation"). The owner gives carol Ops and every desktop syncs; the owner then revokes carol
 * from Ops on desktop A (rotating its key), and A syncs: after A's pull and before its push, bob
 * (a member of Ops) adds an entry to Ops under the old key version on desktop B and syncs. Before,
 * A's rotation was stored beside it and the entry stayed under the old key, which carol's desktop
 * holds. Now the server refuses the rotation while it leaves that entry there; A pulls it, seals it
 * again under the new key and pushes again in the same sync, without anyone's help. Afterwards
 * every live entry on the server is at its group's key version, and both desktops open the entry.
 * And an entry the rotating desktop refuses (added by the member it revokes, in the same window)
 * holds the rotation back for one round only: pulled, it is no longer named (it stays set aside).
 * Real files, a real team server on PGlite over loopback HTTP, the sync's own code (the push held
 * back only until B's sync is done). Must never put a password in a process argument.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import type { ReplicaRecord } from '../../shared/sync/records';
import { BOB, CAROL, type Desktop, pushingAfter, groupUidIn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 6, 2, 0, 0));
const team = useTeamDesktops('crewvault-r1-stray', clock);
const { a, b, c, onDesktop, sync, teamClient } = team;
let opsId: number;
let opsUid: string;

beforeAll(() => {
  opsId = team.opsId;
  opsUid = groupUidIn(a.file, opsId);
});


/** Every record the owner is handed from the start, its newest of each object. */
async function serverRecords(): Promise<ReplicaRecord[]> {
  const client = await teamClient(a);
  const vault = await onDesktop(a, (s) => s.replica.vaultId());
  const out = new Map<string, ReplicaRecord>();
  let since = 0;
  for (;;) {
    const page = await client.call('syncPull', { vault, since });
    for (const r of page.records) out.set(r.record.id, r.record);
    since = page.upTo;
    if (!page.more) return [...out.values()];
  }
}

async function routerPassword(d: Desktop): Promise<string> {
  return onDesktop(d, async (s) => s.revealPassword((await s.resolvePath('Acme/Router')).id));
}

describe('a rotation pushed while another desktop adds an entry to the group under the old key (review R1)', () => {
  it('leaves no live entry under the old key: the rotating desktop seals it again and both open it', async () => {
    await onDesktop(a, async (s) => s.team.grant(opsId, CAROL, false, await s.team.groupRevision(opsId)));
    for (const d of [a, c, b]) expect((await sync(d)).code, d.name).toBe('ok');
    const opsBefore = (await serverRecords()).find((r) => r.kind === 'group' && r.id === opsUid);

    clock.advance(1_000);
    await onDesktop(a, async (s) => s.team.revoke(opsId, CAROL, await s.team.memberRevision(opsId, CAROL)));
    const bobAddsRouter = async (): Promise<void> => {
      clock.advance(1_000);
      await onDesktop(b, (s) => s.createEntries([{ customer: 'Acme', title: 'Router', password: 'r-bob', groupId: opsId }]));
      const out = await sync(b);
      expect(out.code, out.stderr).toBe('ok');
    };
    clock.advance(1_000);
    // The desktop's own kept session, as `crewvault sync` takes it (its server key known).
    const kept = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
    const client = pushingAfter(kept.client, bobAddsRouter);
    await onDesktop(a, (s) => syncOnce(client, s.replica));
    for (const d of [b, a]) expect((await sync(d)).code, d.name).toBe('ok');

    const records = await serverRecords();
    const versions = new Map(records.flatMap((r) => (r.kind === 'group' ? [[r.id, r.keyVersion] as const] : [])));
    const underOldKey = records.filter((r) => r.kind === 'entry' && r.deletedAt === null && r.keyVersion !== versions.get(r.group)).map((r) => r.id);
    expect({ opsVersion: versions.get(opsUid), underOldKey }).toEqual({ opsVersion: opsBefore?.kind === 'group' ? opsBefore.keyVersion + 1 : 'Ops held before', underOldKey: [] });
    expect({ a: await routerPassword(a), b: await routerPassword(b) }).toEqual({ a: 'r-bob', b: 'r-bob' });
    // Carol's desktop, cut off from Ops, no longer holds it.
    expect((await sync(c)).code).toBe('ok');
    expect(await onDesktop(c, async (s) => (await s.listEntries()).map((e) => e.title).includes('Router'))).toBe(false);
  }, 180_000);

  it('is not held back by an entry its desktop refuses: one added by the member it revokes', async () => {
    // Bob, not yet told, adds an entry to Ops between the owner's pull and push: the owner's desktop refuses it (he holds Ops no more there).
    clock.advance(1_000);
    await onDesktop(a, async (s) => s.team.revoke(opsId, BOB, await s.team.memberRevision(opsId, BOB)));
    const bobAddsModem = async (): Promise<void> => {
      clock.advance(1_000);
      await onDesktop(b, (s) => s.createEntries([{ customer: 'Acme', title: 'Modem', password: 'm-bob', groupId: opsId }]));
      const out = await sync(b);
      expect(out.code, out.stderr).toBe('ok');
    };
    clock.advance(1_000);
    const kept = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
    const outcome = await onDesktop(a, (s) => syncOnce(pushingAfter(kept.client, bobAddsModem), s.replica));
    // The revoke is on the server: bob is handed no entry of Ops any more.
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const bobSees = await (await teamClient(b)).call('syncPull', { vault, since: 0 });
    // Modem stays set aside on the owner's desktop (refused there), as any record its sender may not write.
    expect({ pushed: outcome.pushed > 0, setAside: outcome.held > 0, opsSeenByBob: bobSees.records.filter((r) => r.record.kind === 'entry' && r.record.group === opsUid).length })
      .toEqual({ pushed: true, setAside: true, opsSeenByBob: 0 });
  }, 180_000);
});
