/**
 * A rename its lead may no longer send, dropped by a round whose push then fails (issue #15, hostile review of 91e8333;
 * sync.ts groupChangesUnmadeLine). The change is told once, with the round that dropped it: a round ending in an error
 * (the server unreachable at its push, BUSY, CONFLICT) returned no outcome, so the line was lost, and the next round had
 * nothing left to tell (the rename gone, audited only). It goes with the error, as a revoke waiting does, and only once.
 * Real desktops (real vault files, the sync's own code) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../../electron/team/sync';
import type { TeamClient } from '../../electron/team/client';
import { CrewvaultError } from '../../shared/errors';
import type { ServerRouteInput, ServerRouteName, ServerRouteOutput } from '../../shared/api/server-contract';
import { BOB, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { auditedIn, bobLeadsOpsWithCarol, keptClient, outcomeOf, synced } from '../support/revoke-first';

const UNMADE = 'A change of yours not made: "Ops" renamed "Ops West" (you no longer manage the group). Never sent, the group stays as the team holds it.';

/** `client`, every push of which is lost on the way (nothing of it reaches the server). */
function losingPushes(client: TeamClient): TeamClient {
  const call = client.call.bind(client);
  client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
    if (name === 'syncPush') throw new CrewvaultError('SERVER_UNREACHABLE', 'The team server could not be reached.');
    return call(name, input, sent);
  };
  return client;
}

describe('a rename its lead may no longer send, dropped by a round whose push fails', () => {
  const clock = manualClock(Date.UTC(2026, 11, 9, 1, 0, 0));
  const team = useTeamDesktops('crewvault-lead-unmade-renamed-push-lost', clock);
  const { a, b, onDesktop } = team;
  const nameOn = async (d: Desktop): Promise<string | undefined> => onDesktop(d, async (s) => (await s.team.listGroups()).find((g) => g.id === team.opsId)?.name);

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  it('is told with the error, and not again', async () => {
    await onDesktop(b, async (s) => s.team.renameGroup(team.opsId, 'Ops West', await s.team.groupRevision(team.opsId)));
    await onDesktop(a, async (s) => s.team.setLead(team.opsId, BOB, false, await s.team.memberRevision(team.opsId, BOB)));
    expect(await team.answer(a)).toBe('ok');
    const failed = await onDesktop(b, async (s) => outcomeOf(syncOnce(losingPushes(await keptClient(team, b, () => clock.now())), s.replica)));
    expect(failed).toBe(`SERVER_UNREACHABLE: The team server could not be reached. ${UNMADE}`);
    const next = await synced(team, b);
    expect({ told: next.groupChangesUnmade, b: await nameOn(b), audited: auditedIn(b, 'group.change_unmade') }).toEqual({ told: undefined, b: 'Ops', audited: 1 });
  }, 240_000);
});
