/**
 * A group deleted here, not sent, with an entry of it deleted here too (its deletion needs the group empty), while
 * someone else edits that entry (hostile review of 4a2305a, replica-group-undelete.ts). An edit beside a delete keeps the
 * entry (replica-both-changed.ts: the delete loses): it comes back live in the group, which the server then deletes
 * never ("An access group that still holds entries is not deleted"). Left on its tombstone here, the group's deletion was
 * refused, with every other change of the push, at every sync for good; now the group comes back with the entry, the
 * deletion not made, told once and audited once, the other changes sent.
 * Real desktops (real vault files, the CLI's sync) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CAROL, deletionsKeptOn, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';
import { auditedIn, bobLeadsOpsWithCarol, holdsOps, opsWrapsIn, switchPasswordOn, synced } from '../support/revoke-first';

const told = 'A change of yours not made: "Ops" deleted (it holds entries written elsewhere: move or delete them, then delete it again). Never sent, the group stays as the team holds it.';

describe('a group deleted here with its entry, while that entry is edited elsewhere', () => {
  const clock = manualClock(Date.UTC(2026, 11, 8, 21, 0, 0));
  const team = useTeamDesktops('crewvault-group-deleted-entry-edited', clock);
  const { a, b, onDesktop } = team;

  beforeAll(async () => bobLeadsOpsWithCarol(team), 180_000);

  const titlesOn = async (d: typeof a): Promise<string[]> => onDesktop(d, async (s) => (await s.listEntries()).map((e) => e.title).sort());
  /** Bob's desktop syncs twice, then the owner's: what bob was told, and what each side then holds. */
  const bobTwiceThenOwner = async () => {
    const first = await synced(team, b);
    const second = await synced(team, b);
    await synced(team, a);
    return {
      first: first.groupChangesUnmade, second: second.groupChangesUnmade, holdsA: await holdsOps(team, a), holdsB: await holdsOps(team, b),
      a: await titlesOn(a), audited: auditedIn(b, 'group.change_unmade'), kept: deletionsKeptOn(b),
    };
  };

  it('a lead\'s deletion over an entry edited elsewhere: Ops back with Switch as edited, told once, the other delete sent', async () => {
    await team.deleteEntryAt(b, 'Acme/Switch');
    await team.deleteEntryAt(b, 'Acme/Firewall');
    await onDesktop(b, async (s) => s.team.deleteGroup(team.opsId, await s.team.groupRevision(team.opsId)));
    await team.setPassword(a, 'Acme/Switch', 's-2');
    expect(await team.answer(a)).toBe('ok');
    const seen = await bobTwiceThenOwner();
    // Lost, the edit left no entry to reveal: 'lost' says so rather than a NOT_FOUND from the reveal.
    const switchOnB = (await titlesOn(b)).includes('Switch') ? await switchPasswordOn(team, b) : 'lost';
    expect({ ...seen, switch: switchOnB }).toEqual({ first: told, second: undefined, holdsA: true, holdsB: true, switch: 's-2', a: ['Printer', 'Switch'], audited: 1, kept: 0 });
  }, 240_000);

  it('the owner\'s rotation of Ops (re-sealing Switch, deleted here) and Router written there in one pull: back with Router, Switch\'s delete sent', async () => {
    await team.deleteEntryAt(b, 'Acme/Switch');
    await onDesktop(b, async (s) => s.team.deleteGroup(team.opsId, await s.team.groupRevision(team.opsId)));
    await onDesktop(a, async (s) => s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL)));
    await onDesktop(a, (s) => s.createEntries([{ customer: 'Acme', title: 'Router', password: 'r-1', groupId: team.opsId }]));
    expect(await team.answer(a)).toBe('ok');
    const seen = await bobTwiceThenOwner();
    expect({ ...seen, b: await titlesOn(b), wrapsA: opsWrapsIn(team, a), wrapsB: opsWrapsIn(team, b) }).toEqual({
      first: told, second: undefined, holdsA: true, holdsB: true, a: ['Printer', 'Router'], b: ['Printer', 'Router'], audited: 2, kept: 0,
      wrapsA: ['alice@2', 'bob@2'], wrapsB: ['alice@2', 'bob@2'],
    });
  }, 240_000);

  it('an entry deleted here moved into Ops elsewhere (the move keeps it): back with it, told once, Router\'s delete sent', async () => {
    await team.deleteEntryAt(b, 'Acme/Router');
    await team.deleteEntryAt(b, 'Acme/Printer');
    await onDesktop(b, async (s) => s.team.deleteGroup(team.opsId, await s.team.groupRevision(team.opsId)));
    clock.advance(1_000);
    await onDesktop(a, async (s) => {
      const printer = await s.resolvePath('Acme/Printer');
      await s.team.moveEntry(printer.id, team.opsId, printer.revision ?? -1);
    });
    expect(await team.answer(a)).toBe('ok');
    const seen = await bobTwiceThenOwner();
    expect({ ...seen, b: await titlesOn(b) }).toEqual({ first: told, second: undefined, holdsA: true, holdsB: true, a: ['Printer'], b: ['Printer'], audited: 3, kept: 0 });
  }, 240_000);
});
