/**
 * Since the fix (the people part pushed first (electron/team/sync.ts partsOf) and the refused version pushed over (ReplicaService.overwriteRefused)), this passes; the
 * reviewer's text as written follows. Review round ten, hole: a revoked member's racing edit keeps the revoke off the server for ever
 * (#15, ecee358/bb9db01, "an edit crossing a rotation"). The owner revokes bob from Ops on desktop
 * A (rotating its key); before A syncs, bob edits an Ops entry and syncs first (the server still
 * lists him, so it takes it). A's pull refuses bob's edit (its sender no longer holds the key here)
 * and sets it aside, so A's rotation's re-seal of that entry always conflicts, the whole batch
 * (the group record that removes bob) is refused, and every sync of A ends CONFLICT. Meanwhile
 * the server keeps bob a member: he keeps pulling and writing Ops. Expected (safe): within a few
 * syncs of A the server no longer hands bob Ops and refuses his pushes into it (FORBIDDEN). Must never put a
 * password in a process argument.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BOB, groupUidIn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));
const team = useTeamDesktops('crewvault-r10-revrace', clock);
const { a, b, onDesktop, sync, teamClient, setPassword } = team;
let opsId: number;
let opsUid: string;

beforeAll(() => {
  opsId = team.opsId;
  opsUid = groupUidIn(a.file, opsId);
});

describe('a revoked member races the revoke with an edit', () => {
  it('does not keep the revoke off the server', async () => {
    await onDesktop(a, async (s) => s.team.revoke(opsId, BOB, await s.team.memberRevision(opsId, BOB)));
    // Bob, not yet told, edits Switch and syncs first: the server still lists him in Ops.
    await setPassword(b, 'Acme/Switch', 's-bob-race');
    expect((await sync(b)).code).toBe('ok');
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) {
      const out = await sync(a);
      answers.push(out.code === 'ok' ? 'ok' : `${out.code}: ${out.stderr.trim()}`);
    }
    // Bob writes again after the revoke, after three syncs of the owner's: his desktop's batch pushed as it stands.
    await setPassword(b, 'Acme/Firewall', 'f-bob-after-revoke');
    const bobs = await onDesktop(b, (s) => s.replica.outgoing());
    const bobLater = await (await teamClient(b)).call('syncPush', { batch: bobs.batch }).then(() => 'stored', (error: unknown) => (error as { code?: string }).code ?? 'error');
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const bobSees = await (await teamClient(b)).call('syncPull', { vault, since: 0 });
    const opsSeenByBob = bobSees.records.filter((r) => r.record.kind === 'entry' && r.record.group === opsUid).length;
    expect({ answers, bobLater, opsSeenByBob }).toEqual({ answers: ['ok', 'ok', 'ok'], bobLater: 'FORBIDDEN', opsSeenByBob: 0 });
  });
});
