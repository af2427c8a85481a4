/**
 * The missed move (SECURITY.md Known limits, hostile review of C8a; docs/SYNC.md "A move a desktop
 * did not see"): the server keeps an entry's newest record only, so a desktop that synced neither
 * a move of an entry nor the change after it judged that change against the group it last saw the
 * entry in. bob (Ops and the default group) moves an entry of Ops into the default group and carol
 * (the default group only) deletes or edits it there: the owner's second desktop, offline across
 * both, set the change aside for good (carol does not hold Ops) and kept the entry live. The server
 * now keeps the signed records that moved an entry (schema 31) and hands them with its newer
 * record; the desktop judges the record from where the moves that hold put it. A real team server
 * (PGlite, loopback HTTP), the owner's two desktops, bob's and carol's (test/support/team-desktops.ts),
 * the CLI's sync; the cases run in order on one team, the dishonest server's last.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import { uidText } from '../../electron/vault/ids';
import { groupUidIn, useTeamDesktops, type Desktop, setAsideOn } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 3, 0, 0));
const team = useTeamDesktops('crewvault-missed-move', clock);
const { a, a2, b, c, onDesktop, answer } = team;

const titles = (d: Desktop): Promise<string[]> => onDesktop(d, async (s) => (await s.listEntries()).map((e) => e.title).sort());

/** The global id of the entry at `entryPath` on desktop `d` (what its records and the server's rows name). */
async function entryUid(d: Desktop, entryPath: string): Promise<string> {
  const id = await onDesktop(d, async (s) => (await s.resolvePath(entryPath)).id);
  const db = new Database(d.file, { readonly: true });
  try {
    return uidText((db.prepare('SELECT uid FROM entries WHERE id = ?').get(id) as { uid: Buffer }).uid);
  } finally {
    db.close();
  }
}

async function moveInto(d: Desktop, entryPath: string, groupId: number): Promise<void> {
  clock.advance(1_000);
  await onDesktop(d, async (s) => { const e = await s.resolvePath(entryPath); await s.team.moveEntry(e.id, groupId, e.revision ?? -1); });
}

async function deleteHere(d: Desktop, entryPath: string): Promise<void> {
  clock.advance(1_000);
  await onDesktop(d, async (s) => { const e = await s.resolvePath(entryPath); await s.deleteEntry(e.id, e.revision ?? -1); });
}

/** The default group's id (the same on every desktop: each is a copy of the owner's file). */
const defaultGroup = (): Promise<number> => onDesktop(a, async (s) => (await s.team.listGroups()).find((g) => g.id !== team.opsId && g.name !== 'Net' && g.name !== 'Lab')?.id ?? -1);

/** New entries of Ops, made on the owner's desktop and synced to all four. */
async function madeInOps(...names: string[]): Promise<void> {
  clock.advance(1_000);
  for (const title of names) await onDesktop(a, (s) => s.createEntry({ customer: 'Acme', title, password: `${title}-1`, groupId: team.opsId }));
  for (const d of [a, a2, b, c]) expect(await answer(d), d.name).toBe('ok');
}

/** bob moves the entries into the default group; carol takes the moves in. */
async function bobMovesToDefault(...names: string[]): Promise<void> {
  const into = await defaultGroup();
  for (const title of names) await moveInto(b, `Acme/${title}`, into);
  expect([await answer(b), await answer(c)]).toEqual(['ok', 'ok']);
}

describe('a move the late desktop did not see', () => {
  it('moved into the default group by bob, deleted there by carol: the owner\'s desktop that saw neither takes the delete', async () => {
    await bobMovesToDefault('Firewall');
    await deleteHere(c, 'Acme/Firewall');
    expect(await answer(c)).toBe('ok');
    const answers = [await answer(a2), await answer(a)];
    expect({ answers, a2: await titles(a2), a2SetAside: setAsideOn(a2), a: await titles(a) }).toEqual({
      answers: ['ok', 'ok'], a2: ['Printer', 'Switch'], a2SetAside: [], a: ['Printer', 'Switch'],
    });
  });

  it('moved by bob, edited there by carol: the owner\'s desktop that saw neither takes the edit', async () => {
    await bobMovesToDefault('Switch');
    await team.setPassword(c, 'Acme/Switch', 's-2');
    expect(await answer(c)).toBe('ok');
    expect(await answer(a2)).toBe('ok');
    const switchOnA2 = await onDesktop(a2, async (s) => s.revealPassword((await s.resolvePath('Acme/Switch')).id));
    expect({ switchOnA2, a2SetAside: setAsideOn(a2) }).toEqual({ switchOnA2: 's-2', a2SetAside: [] });
  });

  it('moved by bob, deleted by carol, the late desktop pulling a record a page: the move (on no page of its own) still comes with the delete', async () => {
    await madeInOps('Hub');
    await bobMovesToDefault('Hub');
    await deleteHere(c, 'Acme/Hub');
    expect(await answer(c)).toBe('ok');
    clock.advance(1_000);
    const kept = await keptSession(serverPlace(a2.env), new URL(team.server.url).origin, () => clock.now());
    const outcome = await onDesktop(a2, (s) => syncOnce(kept.client, s.replica, { pullRecords: 1 }));
    expect(outcome.pulled).toBeGreaterThan(2);
    expect({ a2: await titles(a2), a2SetAside: setAsideOn(a2) }).toEqual({ a2: ['Printer', 'Switch'], a2SetAside: [] });
  });

  it('moved twice (Ops to the default group by bob, on to Net by carol, who never held Ops) and deleted by carol: followed through both moves', async () => {
    clock.advance(1_000);
    const net = await onDesktop(a, async (s) => {
      const group = await s.team.createGroup('Net');
      await s.team.grant(group.id, 'carol', false, await s.team.groupRevision(group.id));
      return group.id;
    });
    await madeInOps('Router');
    await bobMovesToDefault('Router');
    await moveInto(c, 'Acme/Router', net);
    expect(await answer(c)).toBe('ok');
    await deleteHere(c, 'Acme/Router');
    expect(await answer(c)).toBe('ok');
    expect(await answer(a2)).toBe('ok');
    expect({ a2: await titles(a2), a2SetAside: setAsideOn(a2) }).toEqual({ a2: ['Printer', 'Switch'], a2SetAside: [] });
  });

  it('moved by the owner, deleted by carol: bob\'s desktop (a member, Ops and the default group) that saw neither takes the delete', async () => {
    await madeInOps('Lamp');
    await moveInto(a, 'Acme/Lamp', await defaultGroup());
    expect([await answer(a), await answer(c)]).toEqual(['ok', 'ok']);
    await deleteHere(c, 'Acme/Lamp');
    expect(await answer(c)).toBe('ok');
    expect(await answer(b)).toBe('ok');
    expect({ lamp: (await titles(b)).includes('Lamp'), bSetAside: setAsideOn(b) }).toEqual({ lamp: false, bSetAside: [] });
  });

  it('a move between two groups a member holds neither of is not handed to her with the entry\'s next record; the move into her group is', async () => {
    clock.advance(1_000);
    const lab = await onDesktop(a, async (s) => (await s.team.createGroup('Lab')).id);
    await madeInOps('Probe');
    await moveInto(a, 'Acme/Probe', lab);
    expect(await answer(a)).toBe('ok');
    await moveInto(a, 'Acme/Probe', await defaultGroup());
    expect(await answer(a)).toBe('ok');
    await team.setPassword(a, 'Acme/Probe', 'p-2');
    expect(await answer(a)).toBe('ok');
    const [probe, vault] = [await entryUid(a, 'Acme/Probe'), await onDesktop(a, (s) => s.replica.vaultId())];
    const pulled = await (await team.teamClient(c)).call('syncPull', { vault, since: 0, moves: true });
    expect(pulled.records.some((r) => r.record.id === probe)).toBe(true);
    // carol holds the default group, not Ops nor Lab: of Ops → Lab → default, only the move into hers.
    expect((pulled.moves ?? []).filter((m) => m.id === probe).map((m) => m.group)).toEqual([groupUidIn(a.file, await defaultGroup())]);
  });

  it('a dishonest server hands a move changed after it was signed: the delete is set aside as before, the entry stays', async () => {
    await madeInOps('Modem');
    const modem = await entryUid(a, 'Acme/Modem');
    await bobMovesToDefault('Modem');
    await deleteHere(c, 'Acme/Modem');
    expect(await answer(c)).toBe('ok');
    // bob's move of it, its time changed: a record that does not hold under his signature.
    const forged = await team.server.database.query(
      "UPDATE sync_entry_moves SET body = jsonb_set(body, '{updatedAt}', to_jsonb((body->>'updatedAt')::bigint + 1)) WHERE record_id = $1 RETURNING seq", [modem]);
    expect(forged.length).toBe(1);
    expect(await answer(a2)).toBe('ok');
    expect({ a2: await titles(a2), a2SetAside: setAsideOn(a2).length }).toEqual({ a2: ['Modem', 'Printer', 'Probe', 'Switch'], a2SetAside: 1 });
  });

  it('a dishonest server hands another entry\'s genuine move as this one\'s: the delete is set aside as before, the entry stays', async () => {
    await madeInOps('Camera');
    const [camera, moved] = [await entryUid(a, 'Acme/Camera'), await entryUid(a, 'Acme/Switch')];
    await bobMovesToDefault('Camera');
    await deleteHere(c, 'Acme/Camera');
    expect(await answer(c)).toBe('ok');
    // Camera's move replaced by bob's genuine move of Switch (the second case's, Ops to the default group as well).
    const swapped = await team.server.database.query(
      'UPDATE sync_entry_moves m SET body = o.body FROM sync_entry_moves o WHERE m.record_id = $1 AND o.record_id = $2 RETURNING m.seq', [camera, moved]);
    expect(swapped.length).toBe(1);
    expect(await answer(a2)).toBe('ok');
    expect({ a2: await titles(a2), a2SetAside: setAsideOn(a2).length }).toEqual({ a2: ['Camera', 'Modem', 'Printer', 'Probe', 'Switch'], a2SetAside: 2 });
  });
});
