/**
 * An edit event a dishonest server plays back, one this desktop took long ago with its record, is no edit waiting
 * for its record (hostile review of b93ad33). carol edits Token (an HOTP entry) and syncs; the owner takes her edit
 * and its `entry.edit` event. The server later adds that event again to a pull of the owner's (it cannot forge
 * one, it can replay what it stored). The owner deletes Token, not yet sent; carol takes an HOTP code of Token and
 * syncs: a code step and nothing else. The owner's delete must stand, as it does with no replay. Before: the
 * played-back event was noted as an edit ahead of its record (store-edits-ahead.ts), so carol's code step was read
 * as an edit, taken over the owner's delete, and the delete was lost, nobody told.
 * A real team server (PGlite, loopback HTTP), real vault files; the server's dishonesty is a client that adds one
 * stored record to the last page of a pull. Must never sleep (the clock is injected).
 */
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import type { TeamClient } from '../../electron/team/client';
import type { ServerRouteInput, ServerRouteName, ServerRouteOutput } from '../../shared/api/server-contract';
import type { EventRecord, ReplicaRecord } from '../../shared/sync/records';
import { CAROL, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 13, 0, 0));
const team = useTeamDesktops('crewvault-edit-event-replayed-ahead', clock);
const { a, c, onDesktop, answer, setPassword, deleteEntryAt, takeCode } = team;

const TECH = ['entries.view', 'passwords.reveal', 'otp.view', 'entries.create', 'entries.edit'];

/** `client`, its pulls' records handed to `seen`, and each pull's last page carrying `extra` too (when given). */
function pullsThrough(client: TeamClient, seen: (record: ReplicaRecord) => void, extra?: ReplicaRecord): TeamClient {
  const call = client.call.bind(client);
  client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
    const reply = await call(name, input, sent);
    if (name !== 'syncPull') return reply;
    const page = reply as ServerRouteOutput<'syncPull'>;
    for (const { record } of page.records) seen(record);
    if (page.more || extra === undefined) return reply;
    return { ...page, records: [...page.records, { seq: page.upTo + 1, record: extra }], upTo: page.upTo + 1 } as ServerRouteOutput<N>;
  };
  return client;
}

async function titlesOn(d: Desktop): Promise<string[]> {
  return onDesktop(d, async (s) => (await s.listEntries()).map((e) => e.title));
}

describe('an edit event played back after its record was taken', () => {
  it('is no edit waiting for a record: carol\'s later code step does not undo the owner\'s unsent delete', async () => {
    await onDesktop(a, async (s) => {
      await s.team.defineRole('Tech', TECH, 0);
      await s.team.changeRole(CAROL, 'Tech', await s.team.userRevision(CAROL));
      await s.createEntry({ customer: 'Acme', title: 'Token', password: 't-1', otp: { params: { kind: 'hotp', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, period: 30, counter: 0 } } });
    });
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    await setPassword(c, 'Acme/Token', 't-carol');
    expect(await answer(c)).toBe('ok');

    // The owner takes her edit with its event, through a client that keeps what the server handed.
    const edits: EventRecord[] = [];
    const keep = (record: ReplicaRecord): void => {
      if (record.kind === 'event' && record.action === 'entry.edit') edits.push(record);
    };
    const kept = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
    await onDesktop(a, (s) => syncOnce(pullsThrough(kept.client, keep), s.replica));
    const edit = edits.at(-1);
    if (edit === undefined) throw new Error('the owner was handed no edit event of carol\'s');

    // The server plays her edit event back once more.
    clock.advance(1_000);
    const again = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
    await onDesktop(a, (s) => syncOnce(pullsThrough(again.client, () => undefined, edit), s.replica));

    await deleteEntryAt(a, 'Acme/Token');
    await takeCode(c, 'Token');
    expect(await answer(c)).toBe('ok');
    expect(await answer(a)).toBe('ok');
    expect(await titlesOn(a), 'the owner\'s delete on his desktop').not.toContain('Token');
    expect(await answer(c)).toBe('ok');
    expect(await titlesOn(c), 'the owner\'s delete on the team').not.toContain('Token');
  });
});
