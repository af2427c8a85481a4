/**
 * Finding C7: a group deleted while a member edits in it offline (docs/SYNC.md "A group deleted
 * while changes in it wait here"). Bob, offline, edits an entry of a group and adds one to it, and
 * edits an entry elsewhere; meanwhile the owner deletes the group's entries and the group, and that
 * reaches the server. Before, bob's push met FORBIDDEN at every sync and held back his other
 * changes until he discarded the edit. Now his pull takes the deletion in, drops his unsent changes
 * of that group in the same transaction and says so in one line naming the group, and the rest of
 * his changes go. A desktop whose push meets the deletion (stored between its pull and its push)
 * pulls once more and goes on in the same sync.
 * Real files, a real team server on PGlite over loopback HTTP, the sync's own code and the CLI.
 * Must never put a password in a process argument, nor find one in what a sync tells.
 */
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import { syncToldLines } from '../../electron/team/sync-told';
import { BOB, type Desktop, pushingAfter, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 6, 3, 0, 0));
const team = useTeamDesktops('crewvault-c7-group-deleted', clock);
const { a, a2, b, onDesktop, sync, setPassword } = team;


async function password(d: Desktop, entryPath: string): Promise<string> {
  return onDesktop(d, async (s) => s.revealPassword((await s.resolvePath(entryPath)).id));
}

async function titles(d: Desktop): Promise<string[]> {
  return onDesktop(d, async (s) => (await s.listEntries()).map((e) => e.title).sort());
}

/** The owner, on desktop a, deletes every entry of `groupId` and then the group, and syncs. */
async function ownerDeletesGroup(groupId: number): Promise<void> {
  clock.advance(1_000);
  await onDesktop(a, async (s) => {
    for (const e of (await s.listEntries()).filter((e) => e.groupId === groupId)) await s.deleteEntry(e.id, (await s.resolvePath(`${e.customer}/${e.title}`)).revision ?? -1);
    await s.team.deleteGroup(groupId, await s.team.groupRevision(groupId));
  });
  const out = await sync(a);
  expect(out.code, out.stderr).toBe('ok');
}

/** A group of the owner's with bob in it and one entry, on every desktop. */
async function groupForBob(name: string, title: string): Promise<number> {
  clock.advance(1_000);
  const id = await onDesktop(a, async (s) => {
    const group = await s.team.createGroup(name);
    await s.team.grant(group.id, BOB, false, await s.team.groupRevision(group.id));
    await s.createEntries([{ customer: 'Acme', title, password: `${title}-1`, groupId: group.id }]);
    return group.id;
  });
  for (const d of [a, b]) expect((await sync(d)).code, d.name).toBe('ok');
  return id;
}

describe('a group deleted while a member edits in it offline (C7)', () => {
  it('drops the offline changes made in the deleted group, names them in one line, and sends the rest', async () => {
    // Bob, offline: Switch changed and Console added in Ops, Printer (the default group) changed.
    await setPassword(b, 'Acme/Switch', 's-bob');
    clock.advance(1_000);
    await onDesktop(b, (s) => s.createEntries([{ customer: 'Acme', title: 'Console', password: 'c-bob', groupId: team.opsId }]));
    await setPassword(b, 'Acme/Printer', 'p-bob');
    await ownerDeletesGroup(team.opsId);

    const out = await sync(b);
    expect(out.code, out.stderr).toBe('ok');
    const outcome = JSON.parse(out.stdout) as { groupDeleted?: string; conflictCopies: number };
    expect(outcome.groupDeleted).toBe('2 unsent changes dropped: their group "Ops" was deleted elsewhere.');
    expect(outcome.conflictCopies).toBe(0);
    expect(out.stdout + out.stderr).not.toMatch(/s-bob|c-bob|p-bob/);
    expect(await titles(b)).toEqual(['Printer']);

    // The owner's other desktop is handed the group's deletion with its last entries' deletes: taken in one sync (before, it was set aside until the next).
    const second = await sync(a2);
    expect(second.code, second.stderr).toBe('ok');
    expect(await onDesktop(a2, async (s) => (await s.team.listGroups()).map((g) => g.name))).not.toContain('Ops');

    // The rest went: the owner takes Printer's change; bob's next sync tells nothing more.
    expect((await sync(a)).code).toBe('ok');
    expect(await password(a, 'Acme/Printer')).toBe('p-bob');
    const again = await sync(b);
    expect(again.code, again.stderr).toBe('ok');
    expect(JSON.parse(again.stdout)).not.toHaveProperty('groupDeleted');
    // The owner's events of the deletion, set aside while the group stood here, are taken in once it is gone.
    expect(JSON.parse(again.stdout)).toMatchObject({ held: 0 });
  }, 180_000);

  it('recovers a push refused for the deleted group: pulls once more, drops, and sends the rest in the same sync', async () => {
    const labId = await groupForBob('Lab', 'Bench');
    await setPassword(b, 'Acme/Bench', 'b-bob');
    await setPassword(b, 'Acme/Printer', 'p-bob-2');
    // Bob's sync pulls before the owner's delete reaches the server, and pushes after it: refused (FORBIDDEN).
    const kept = await keptSession(serverPlace(b.env), new URL(team.server.url).origin, () => clock.now());
    const outcome = await onDesktop(b, (s) => syncOnce(pushingAfter(kept.client, () => ownerDeletesGroup(labId)), s.replica));
    expect(outcome.groupDeleted).toBe('1 unsent change dropped: its group "Lab" was deleted elsewhere.');
    expect(syncToldLines(outcome)).toContain(outcome.groupDeleted);
    expect(outcome.pushed).toBeGreaterThan(0);
    expect(await titles(b)).toEqual(['Printer']);
    expect((await sync(a)).code).toBe('ok');
    expect(await password(a, 'Acme/Printer')).toBe('p-bob-2');
  }, 180_000);
});
