/**
 * An edit noted ahead of its record (store-edits-ahead.ts) waits for that record, not for any record of the entry
 * (hostile review of b93ad33). As in edit-event-ahead-of-record.test.ts: carol's role loses entries.edit while she
 * holds an unsent edit of Token (an HOTP entry); her edit waits, its `entry.edit` event goes, and the owner takes
 * it. Then the server hands the owner an old record of Token again, one he agreed long ago (a dishonest server
 * replays what it stored, signed). Her role allows edits again;
 * the owner deletes Token, not yet sent; carol takes an HOTP code and syncs: her edit goes with only the code's
 * event. Her edit must stand. Before: taking the old record (a replay, ignored) forgot the note, so her record was
 * judged by its own pull alone, a code step, and the owner's delete was written over her edit, lost everywhere.
 * A real team server (PGlite, loopback HTTP), real vault files; the server's dishonesty is a client that adds one
 * stored record to the last page of a pull. Must never sleep (the clock is injected).
 */
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import type { TeamClient } from '../../electron/team/client';
import type { ServerRouteInput, ServerRouteName, ServerRouteOutput } from '../../shared/api/server-contract';
import type { EntryRecord, ReplicaRecord } from '../../shared/sync/records';
import { CAROL, setAsideOn, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 14, 0, 0));
const team = useTeamDesktops('crewvault-edit-ahead-stale-record', clock);
const { a, c, onDesktop, answer, setPassword, deleteEntryAt, takeCode } = team;

const TECH = ['entries.view', 'passwords.reveal', 'otp.view', 'entries.create', 'entries.edit'];
const NO_EDIT = ['entries.view', 'passwords.reveal', 'otp.view', 'entries.create'];

type Page = ServerRouteOutput<'syncPull'>;
type Batch = NonNullable<Page['batches']>[number];

/** `client`, its pulls' pages handed to `seen`, and each pull's last page carrying `extra` too (when given: a record and its batches). */
function pullsThrough(client: TeamClient, seen: (page: Page) => void, extra?: { readonly record: ReplicaRecord; readonly batches: readonly Batch[] }): TeamClient {
  const call = client.call.bind(client);
  client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
    const reply = await call(name, input, sent);
    if (name !== 'syncPull') return reply;
    const page = reply as Page;
    seen(page);
    if (page.more || extra === undefined) return reply;
    const batches = [...(page.batches ?? []), ...extra.batches.filter((b) => !(page.batches ?? []).some((p) => p.id === b.id))];
    return { ...page, records: [...page.records, { seq: page.upTo + 1, record: extra.record }], upTo: page.upTo + 1, ...(batches.length === 0 ? {} : { batches }) } as ServerRouteOutput<N>;
  };
  return client;
}

async function passwordOn(d: Desktop, title: string): Promise<string | undefined> {
  return onDesktop(d, async (s) => {
    const entry = (await s.listEntries()).find((e) => e.title === title);
    return entry === undefined ? undefined : s.revealPassword(entry.id);
  });
}

describe('carol\'s edit whose event went ahead of it', () => {
  it('still counts when an old record of the entry comes first: the owner\'s unsent delete does not go over it', async () => {
    await onDesktop(a, async (s) => {
      await s.team.defineRole('Tech', TECH, 0);
      await s.team.changeRole(CAROL, 'Tech', await s.team.userRevision(CAROL));
      await s.createEntry({ customer: 'Acme', title: 'Token', password: 't-1', otp: { params: { kind: 'hotp', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, period: 30, counter: 0 } } });
    });
    expect(await answer(a)).toBe('ok');
    // Token's record as the server stores it, seen through carol's pull.
    const tokens: Array<{ readonly record: EntryRecord; readonly batches: readonly Batch[] }> = [];
    const carols = await keptSession(serverPlace(c.env), new URL(team.server.url).origin, () => clock.now());
    await onDesktop(c, (s) => syncOnce(pullsThrough(carols.client, (page) => {
      for (const { record } of page.records) {
        if (record.kind === 'entry') tokens.push({ record, batches: (page.batches ?? []).filter((b) => b.id === record.batch) });
      }
    }), s.replica));
    const old = tokens.at(-1);
    if (old === undefined) throw new Error('carol was handed no entry record');

    await setPassword(c, 'Acme/Token', 't-carol');
    await onDesktop(a, async (s) => s.team.defineRole('Tech', NO_EDIT, await s.team.roleRevision('Tech')));
    expect(await answer(a)).toBe('ok');
    // Her edit waits; its event goes, and the owner takes it.
    expect(await answer(c)).toBe('ok');
    expect(await answer(a)).toBe('ok');
    // The server hands the owner Token's old record again.
    clock.advance(1_000);
    const kept = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
    await onDesktop(a, (s) => syncOnce(pullsThrough(kept.client, () => undefined, old), s.replica));
    expect(await passwordOn(a, 'Token')).toBe('t-1');
    expect(setAsideOn(a)).toEqual([]);

    await onDesktop(a, async (s) => s.team.defineRole('Tech', TECH, await s.team.roleRevision('Tech')));
    expect(await answer(a)).toBe('ok');
    await deleteEntryAt(a, 'Acme/Token');
    await takeCode(c, 'Token');
    expect(await answer(c)).toBe('ok');
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    expect(await passwordOn(a, 'Token'), 'carol\'s edit on the owner\'s desktop').toBe('t-carol');
    expect(await passwordOn(c, 'Token'), 'carol\'s edit on her desktop').toBe('t-carol');
  });
});
