/**
 * The lines a sync round tells beside its counts (electron/team/sync-told.ts), the same for
 * `crewvault sync` and the Team server screen: one a person crossed (ending in one full stop),
 * then the old device id, unsent changes dropped with a deleted group, entries that left reach, those said to have left that stay, and events
 * not sent, in that order; none when the round told nothing. Must never: read the wall clock.
 */
import { describe, expect, it } from 'vitest';
import { customerHeldBackLine, customerWentOverLine, deletionWaitingLine, groupChangesUnmadeLine, keyChangesOwedLine, revokesUnmadeLine, revokesWaitingLine, type SyncOutcome } from '../../electron/team/sync';
import { syncToldLines } from '../../electron/team/sync-told';
import { groupDeletedLine } from '../../electron/vault/replica-people-new';

const quiet: SyncOutcome = { pulled: 0, applied: 0, pushed: 0, conflictCopies: 0, countersMerged: 0, held: 0, accessRemoved: [], crossed: [] };

describe('syncToldLines', () => {
  it('tells nothing of a round that told nothing', () => {
    expect(syncToldLines(quiet)).toEqual([]);
  });

  it('tells each person crossed, then the old device, entries out of reach, those said to have left that stay and events not sent, one line each', () => {
    const lines = syncToldLines({
      ...quiet,
      crossed: [
        { user: 'carol', detail: 'carol: your role no longer holds the secret key of the group "Ops" (it was changed elsewhere); 2 edits could not be sent and were dropped' },
        { user: 'vault settings', detail: 'Vault settings: changed here and not sent; the team\'s, stored first, are kept.' },
      ],
      oldDevice: 'old device line',
      groupDeleted: 'group deleted line',
      leftReach: 'left reach line',
      leftUnverified: 'left unverified line',
      eventsNotSent: 'events line',
    });
    expect(lines).toEqual([
      'carol: your role no longer holds the secret key of the group "Ops" (it was changed elsewhere); 2 edits could not be sent and were dropped.',
      'Vault settings: changed here and not sent; the team\'s, stored first, are kept.',
      'old device line',
      'group deleted line',
      'left reach line',
      'left unverified line',
      'events line',
    ]);
  });

  it('tells the customers held back for a team customer of their name refused here, after the changes set aside (hostile review of C1)', () => {
    expect(customerHeldBackLine(undefined)).toBeUndefined();
    expect(customerHeldBackLine([])).toBeUndefined();
    expect(customerHeldBackLine([{ name: 'Globex', reason: 'is a customer name that does not open.', entries: 1 }]))
      .toBe('A customer made here ("Globex") stays on this desktop unsent, with 1 change of its entry: the team\'s customer of its name was refused here (is a customer name that does not open). Your other changes were sent.');
    expect(customerHeldBackLine([{ name: 'A', reason: 'r', entries: 2 }, { name: 'B', reason: 'r', entries: 0 }]))
      .toBe('2 customers made here ("A", "B") stay on this desktop unsent, with 2 changes of their entries: the team\'s customer of their name was refused here (r). Your other changes were sent.');
    expect(syncToldLines({ ...quiet, setAside: 'set aside line', customerHeldBack: 'customer line', mayBeWithheld: 'withheld line' })).toEqual(['set aside line', 'customer line', 'withheld line']);
  });

  it('tells each revoke whose push has not ended, stored ahead of its rotation or not, last', () => {
    expect(revokesWaitingLine([])).toBeUndefined();
    expect(revokesWaitingLine([{ member: 'bob', group: 'Ops', stored: true, neverHeld: false }, { member: 'carol', group: 'Net', stored: false, neverHeld: false }, { member: 'dave', group: 'Net', stored: false, neverHeld: true }]))
      .toBe('bob no longer reaches Ops on the server; its key change waits: entries written there since stay under the key bob held; carol\'s removal from Net waits: carol still reaches it on the server; dave\'s removal from Net waits to be sent: dave never reached it on the server. Sync again to send the rest.');
    expect(syncToldLines({ ...quiet, revokesUnmade: 'unmade line', revokesWaiting: 'waiting line' })).toEqual(['unmade line', 'waiting line']);
  });

  it('tells each key change owed in a group this person manages (a removal whose key change never came), a sentence each, after the revokes waiting', () => {
    expect(keyChangesOwedLine([])).toBeUndefined();
    expect(keyChangesOwedLine([{ member: 'bob', group: 'Ops' }, { member: 'carol', group: 'Net' }]))
      .toBe('bob was removed from Ops on the server, but its key has not been changed since: what is written there stays under the key bob held. Change it: crewvault group rotate Ops (or the Groups screen). '
        + 'carol was removed from Net on the server, but its key has not been changed since: what is written there stays under the key carol held. Change it: crewvault group rotate Net (or the Groups screen).');
    expect(syncToldLines({ ...quiet, revokesWaiting: 'waiting line', keyChangesOwed: 'owed line' })).toEqual(['waiting line', 'owed line']);
  });

  it('tells the changes of groups its person may no longer send, dropped, in one sentence before the revokes not made', () => {
    expect(groupChangesUnmadeLine([])).toBeUndefined();
    expect(groupChangesUnmadeLine([{ group: 'Ops', change: 'renamed "Ops West"', why: 'you no longer manage the group' }]))
      .toBe('A change of yours not made: "Ops" renamed "Ops West" (you no longer manage the group). Never sent, the group stays as the team holds it.');
    expect(groupChangesUnmadeLine([{ group: 'Ops', change: 'renamed "Ops West"', why: 'you no longer manage the group' }, { group: 'Net', change: 'server-computed codes turned on', why: 'only owners and admins change it' }]))
      .toBe('Changes of yours not made: "Ops" renamed "Ops West" (you no longer manage the group); "Net" server-computed codes turned on (only owners and admins change it). Never sent, the groups stay as the team holds them.');
    expect(syncToldLines({ ...quiet, mayBeWithheld: 'withheld line', groupChangesUnmade: 'changes line', revokesUnmade: 'unmade line' })).toEqual(['withheld line', 'changes line', 'unmade line']);
  });

  it('tells the revokes its person may no longer make, given way or their own rotation undone, a sentence each kind', () => {
    expect(revokesUnmadeLine([])).toBeUndefined();
    expect(revokesUnmadeLine([{ member: 'carol', group: 'Ops', undone: false }]))
      .toBe('A revoke of yours not made: carol from Ops (another rotation was kept first, and you may no longer make it again): an owner or admin must make it.');
    expect(revokesUnmadeLine([{ member: 'carol', group: 'Ops', undone: true }, { member: 'dave', group: 'Net', undone: false }, { member: 'erin', group: 'Ops', undone: true }]))
      .toBe('A revoke of yours not made: dave from Net (another rotation was kept first, and you may no longer make it again): an owner or admin must make it.'
        + ' Revokes of yours not made: carol from Ops; erin from Ops (you no longer manage the group, and your key change, never sent, was undone): an owner or admin must make them.');
    // A revoke stored ahead of the rotation undone: made, its key change not (revoke-first-lead-unmade-stored.test.ts).
    expect(revokesUnmadeLine([{ member: 'carol', group: 'Ops', undone: true, keyKept: true }, { member: 'erin', group: 'Ops', undone: true }]))
      .toBe('A revoke of yours not made: erin from Ops (you no longer manage the group, and your key change, never sent, was undone): an owner or admin must make it.'
        + ' Removed on the server, the key not changed: carol from Ops (you no longer manage the group, and your key change, never sent, was undone): what is written there stays under the key they held until an owner or admin changes it.');
  });

  it('tells the customers made here that went over a squatted record of their name, naming whose, after those held back (hostile review of C1)', () => {
    expect(customerWentOverLine([])).toBeUndefined();
    expect(customerWentOverLine([{ by: 'carol', why: 'whose name does not open here' }]))
      .toBe('A customer made here went over the team\'s record of its name (carol\'s, whose name does not open here: only an altered desktop makes one, and the server refused every other customer of that name): sent as that record\'s next revision, with its entries.');
    expect(customerWentOverLine([{ by: 'carol', why: 'w' }, { by: 'carol', why: 'w' }, { by: 'dave', why: 'v' }]))
      .toBe('3 customers made here went over the team\'s record of their name (carol\'s, w; dave\'s, v: only an altered desktop makes one, and the server refused every other customer of that name): sent as that record\'s next revision, with their entries.');
    expect(syncToldLines({ ...quiet, customerHeldBack: 'held line', customerWentOver: 'over line', mayBeWithheld: 'withheld line' })).toEqual(['held line', 'over line', 'withheld line']);
  });

  it('tells the changes held back in a group whose deletion waits here, after the customers held back (hostile review of 0e347bd)', () => {
    expect(deletionWaitingLine(undefined)).toBeUndefined();
    expect(deletionWaitingLine(0)).toBeUndefined();
    expect(deletionWaitingLine(2)).toBe('2 changes of entries stay on this desktop, not sent: their group was deleted elsewhere, and the deletion waits here for an entry moved into it here. Your other changes were sent; move what you keep to another group, and the group goes.');
    expect(syncToldLines({ ...quiet, customerHeldBack: 'customer line', deletionWaiting: 'waiting line', mayBeWithheld: 'withheld line' })).toEqual(['customer line', 'waiting line', 'withheld line']);
  });

  it('tells the unsent changes dropped with groups deleted elsewhere, naming each group, and nothing when none was dropped (C7)', () => {
    expect(groupDeletedLine([{ group: 'Ops', droppedChanges: 0 }])).toBeUndefined();
    expect(groupDeletedLine([{ group: 'Ops', droppedChanges: 1 }])).toBe('1 unsent change dropped: its group "Ops" was deleted elsewhere.');
    expect(groupDeletedLine([{ group: 'Ops', droppedChanges: 2 }, { group: 'Empty', droppedChanges: 0 }])).toBe('2 unsent changes dropped: their group "Ops" was deleted elsewhere.');
    expect(groupDeletedLine([{ group: 'Ops', droppedChanges: 2 }, { group: 'Lab', droppedChanges: 1 }, { group: 'Net', droppedChanges: 1 }]))
      .toBe('4 unsent changes dropped: their groups "Ops", "Lab" and "Net" were deleted elsewhere.');
  });
});
