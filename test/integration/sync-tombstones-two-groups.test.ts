/**
 * Finding C8a of the review of how desktops merge concurrent changes (4 December): tombstones of
 * one entry in two groups. One desktop deletes an entry where it is (the default group) while
 * another moves it into Ops and deletes it there, from the same base; or a member's emptied
 * tombstone (the entry left her reach) meets the entry's delete in the group it went to. A desktop
 * took a tombstone over its own tombstone in another group for tampering ("moves a deleted
 * entry"): set aside, then its own delete pushed over the other (the audit blaming a teammate) and
 * set aside in turn on every desktop holding the first; a member who does not hold the other
 * group had every push refused (FORBIDDEN) for good. Two deletes agree: deleted everywhere, every
 * sync ok, nothing set aside. A real team server (PGlite, loopback HTTP), the owner's two desktops
 * and bob's (default group and Ops) and carol's (default group) (test/support/team-desktops.ts),
 * the CLI's sync. The cases run in order on one team. The last is the same class live (hostile
 * review of C8a): an emptied row judged as the group it was emptied in set aside an edit of the
 * entry made, after it was moved into carol's group, by someone who never held that group. carol's
 * delete that goes with the entry leaving her reach is audited as dropped (`group.changes_dropped`, `left_reach`).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import { pushingAfter, useTeamDesktops, type Desktop, setAsideOn } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 1, 0, 0));
const team = useTeamDesktops('crewvault-tombstones-two-groups', clock);
const { a, a2, b, c, onDesktop, answer } = team;

/**
 * A desktop's `group.changes_dropped` events of reason `left_reach` (an unsent change that went with an entry leaving reach):
 * each its entry's id and the group it was in, the detail sealed, and no text in plain but the reason code.
 */
function leftReachDrops(d: Desktop): Array<{ subject: string; entry: boolean; group: boolean; sealed: boolean }> {
  const db = new Database(d.file, { readonly: true });
  try {
    return (db.prepare("SELECT subject, entry_id IS NOT NULL AS entry, group_id IS NOT NULL AS grp, sealed_detail IS NOT NULL AS sealed FROM audit_log WHERE action = 'group.changes_dropped'")
      .all() as Array<{ subject: string; entry: number; grp: number; sealed: number }>).map((r) => ({ subject: r.subject, entry: r.entry === 1, group: r.grp === 1, sealed: r.sealed === 1 }));
  } finally {
    db.close();
  }
}

const titles = (d: Desktop): Promise<string[]> => onDesktop(d, async (s) => (await s.listEntries()).map((e) => e.title).sort());

/** Each desktop's titles and what it set aside. */
async function everywhere(...desktops: Desktop[]): Promise<Record<string, { titles: string[]; setAside: string[] }>> {
  const out: Record<string, { titles: string[]; setAside: string[] }> = {};
  for (const d of desktops) out[d.name] = { titles: await titles(d), setAside: setAsideOn(d) };
  return out;
}

async function deleteHere(d: Desktop, entryPath: string): Promise<void> {
  clock.advance(1_000);
  await onDesktop(d, async (s) => { const e = await s.resolvePath(entryPath); await s.deleteEntry(e.id, e.revision ?? -1); });
}

async function moveInto(d: Desktop, entryPath: string, groupId: number): Promise<void> {
  clock.advance(1_000);
  await onDesktop(d, async (s) => { const e = await s.resolvePath(entryPath); await s.team.moveEntry(e.id, groupId, e.revision ?? -1); });
}

async function moveAndDelete(d: Desktop, entryPath: string, groupId: number): Promise<void> {
  await moveInto(d, entryPath, groupId);
  await deleteHere(d, entryPath);
}

/** A new entry of the default group, made on the owner's desktop and synced to all four. */
async function madeEverywhere(title: string): Promise<void> {
  await onDesktop(a, (s) => s.createEntry({ customer: 'Acme', title, password: `${title}-1` }));
  for (const d of [a, a2, b, c]) expect(await answer(d), d.name).toBe('ok');
}

const OPS_ONLY = ['Firewall', 'Switch'];
/** Ops once the move of the third case stands. */
const OPS_NOW = ['Firewall', 'Modem', 'Switch'];
/** Then carol's entry made in the race case. */
const WITH_LABEL = ['Firewall', 'Label', 'Modem', 'Switch'];

describe('tombstones of one entry in two groups', () => {
  it('the owner moves it into Ops and deletes it there, their other desktop deletes it where it was: deleted everywhere, nothing set aside', async () => {
    await deleteHere(a2, 'Acme/Printer');
    await moveAndDelete(a, 'Acme/Printer', team.opsId);
    const answers = [await answer(a), await answer(a2), await answer(a2), await answer(b), await answer(c), await answer(a)];
    expect({ answers, ...await everywhere(a, a2, b, c) }).toEqual({
      answers: Array(6).fill('ok'),
      a: { titles: OPS_ONLY, setAside: [] }, a2: { titles: OPS_ONLY, setAside: [] }, b: { titles: OPS_ONLY, setAside: [] }, c: { titles: [], setAside: [] },
    });
  });

  it('carol (the default group only) deletes it where it was, after bob moved it into Ops and deleted it there: her syncs go on', async () => {
    await madeEverywhere('Camera');
    await deleteHere(c, 'Acme/Camera');
    await moveAndDelete(b, 'Acme/Camera', team.opsId);
    const answers = [await answer(b), await answer(c), await answer(c), await answer(a), await answer(b)];
    expect({ answers, ...await everywhere(a, b, c) }).toEqual({
      answers: Array(5).fill('ok'), a: { titles: OPS_ONLY, setAside: [] }, b: { titles: OPS_ONLY, setAside: [] }, c: { titles: [], setAside: [] },
    });
  });

  it('carol deletes it where it was, bob moved it into Ops (live) before: it leaves her desktop, her syncs go on, the move stands', async () => {
    await madeEverywhere('Modem');
    await deleteHere(c, 'Acme/Modem');
    await moveInto(b, 'Acme/Modem', team.opsId);
    const before = leftReachDrops(c);
    const beforeOwner = leftReachDrops(a);
    const answers = [await answer(b), await answer(c), await answer(c), await answer(a)];
    expect({ answers, ...await everywhere(a, b, c) }).toEqual({
      answers: Array(4).fill('ok'), a: { titles: OPS_NOW, setAside: [] }, b: { titles: OPS_NOW, setAside: [] }, c: { titles: [], setAside: [] },
    });
    // Her delete did not take, and her log says so (review of 7 December): once, its name sealed, the reason code alone in plain.
    expect(leftReachDrops(c)).toEqual([...before, { subject: 'left_reach', entry: true, group: true, sealed: true }]);
    // It verifies where it arrives (the owner's desktop, which holds the group it names): taken into her log, nothing set aside.
    expect(leftReachDrops(a)).toEqual([...beforeOwner, { subject: 'left_reach', entry: true, group: true, sealed: true }]);
  });

  it('carol deletes it where it was first, then bob, who moved it into Ops and deleted it there, syncs: he takes hers, nothing sent over it', async () => {
    await madeEverywhere('Scanner');
    await deleteHere(c, 'Acme/Scanner');
    await moveAndDelete(b, 'Acme/Scanner', team.opsId);
    const answers = [await answer(c), await answer(a), await answer(b), await answer(b), await answer(a), await answer(c)];
    expect({ answers, ...await everywhere(a, b, c) }).toEqual({
      answers: Array(6).fill('ok'), a: { titles: OPS_NOW, setAside: [] }, b: { titles: OPS_NOW, setAside: [] }, c: { titles: [], setAside: [] },
    });
  });

  it('bob\'s move and delete lands between carol\'s pull and her push: refused once, pulled again, her delete goes with it and her new entry goes in the same sync', async () => {
    await madeEverywhere('Plotter');
    await deleteHere(c, 'Acme/Plotter');
    await onDesktop(c, (s) => s.createEntry({ customer: 'Acme', title: 'Label', password: 'l-1' }));
    await moveAndDelete(b, 'Acme/Plotter', team.opsId);
    const kept = await keptSession(serverPlace(c.env), new URL(team.server.url).origin, () => clock.now());
    const outcome = await onDesktop(c, (s) => syncOnce(pushingAfter(kept.client, async () => { expect(await answer(b)).toBe('ok'); }), s.replica));
    expect(outcome.pushed).toBeGreaterThan(0);
    const answers = [await answer(c), await answer(a), await answer(b)];
    expect({ answers, ...await everywhere(a, b, c) }).toEqual({
      answers: Array(3).fill('ok'), a: { titles: WITH_LABEL, setAside: [] }, b: { titles: WITH_LABEL, setAside: [] }, c: { titles: ['Label'], setAside: [] },
    });
  });

  it('an entry that left carol\'s reach, deleted in Ops, then Ops given to her: its delete is taken over the one her desktop emptied', async () => {
    await madeEverywhere('Router');
    await moveInto(a, 'Acme/Router', team.opsId);
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    await deleteHere(a, 'Acme/Router');
    clock.advance(1_000);
    await onDesktop(a, async (s) => { await s.team.grant(team.opsId, 'carol', false, await s.team.groupRevision(team.opsId)); });
    const answers = [await answer(a), await answer(c), await answer(c)];
    expect({ answers, ...await everywhere(a, c) }).toEqual({
      answers: Array(3).fill('ok'), a: { titles: WITH_LABEL, setAside: [] }, c: { titles: WITH_LABEL, setAside: [] },
    });
  });

  it('an entry emptied on carol\'s desktop by a revoke, moved into her group and edited there by bob (who never held where it was): it comes back to her', async () => {
    // The same class as the delete above, live: her emptied row (revision 0) was judged as a move
    // out of the group it was emptied in, so bob's edit needed entries.edit there and was set aside.
    clock.advance(1_000);
    const net = await onDesktop(a, async (s) => {
      const group = await s.team.createGroup('Net');
      await s.team.grant(group.id, 'carol', false, await s.team.groupRevision(group.id));
      await s.createEntry({ customer: 'Acme', title: 'Hub', password: 'h-1', groupId: group.id });
      return group.id;
    });
    expect([await answer(a), await answer(c)]).toEqual(['ok', 'ok']);
    clock.advance(1_000);
    await onDesktop(a, async (s) => { await s.team.revoke(net, 'carol', await s.team.memberRevision(net, 'carol')); });
    expect([await answer(a), await answer(c)]).toEqual(['ok', 'ok']);
    const defaultGroup = await onDesktop(a, async (s) => (await s.team.listGroups()).find((g) => g.id !== team.opsId && g.id !== net)?.id ?? -1);
    await moveInto(a, 'Acme/Hub', defaultGroup);
    expect([await answer(a), await answer(b)]).toEqual(['ok', 'ok']);
    await team.setPassword(b, 'Acme/Hub', 'h-2');
    const answers = [await answer(b), await answer(c), await answer(c), await answer(a)];
    const withHub = ['Firewall', 'Hub', 'Label', 'Modem', 'Switch'];
    expect({ answers, ...await everywhere(a, b, c) }).toEqual({
      answers: Array(4).fill('ok'), a: { titles: withHub, setAside: [] }, b: { titles: withHub, setAside: [] }, c: { titles: withHub, setAside: [] },
    });
  });
});
