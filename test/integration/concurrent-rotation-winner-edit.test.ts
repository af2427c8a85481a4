/**
 * Two rotations at once, the winner's edit one revision past the agreed one (#15, the limit
 * docs/SYNC.md named under "Not yet, and why"): the owner's two desktops each revoke someone from
 * Ops before syncing, and the one whose rotation the server keeps edited entries of it too. The
 * other gives way (replica-people-in.ts giveWay, replica-given-way.ts) and took any such version
 * for the winner's re-seal, writing its own over it: an entry it never touched went back to its
 * old password, an entry it had edited lost the winner's edit, both silently. Now an entry this
 * desktop did not write to takes the winner's version, and one written on both keeps both (a
 * conflict copy). Through the real code the winner's rotation re-seals every entry of the group
 * (so its edits stand two past the agreed revision); the test steps the winner's file back one
 * revision (one SQL statement) to stand for the version the rule had to tell apart. A real server
 * (PGlite, loopback HTTP), the real `crewvault sync` code, a private Secret Service. Must never:
 * put a password in a process argument (answers go on the scripted stdin), or pass while an edit
 * of either side is lost.
 */
import { describe, expect, it } from 'vitest';
import { useRotationDesktops } from '../support/rotation-desktops';
import { manualClock } from '../support/vault';

const BOB = 'bob';
const CAROL = 'carol';
const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));
/** The owner's desktop a (the winner) and second desktop a2 (gives way); bob and carol in Ops. */
const world = useRotationDesktops('crewvault-rotation-edit', clock, { members: [BOB, CAROL] });
const { a, a2, sync, passwords, rotateOnBothWinnerEditOneAhead } = world;

describe('two rotations at once, the winner\'s edit one revision past the agreed one', () => {
  it('keeps the winner\'s edit on the desktop that gives way: taken where it wrote nothing, a conflict copy where it wrote too', async () => {
    // Before either syncs: the second desktop revokes bob and edits Firewall; the first revokes
    // carol after editing Switch and Firewall. Its edit then stands one revision past the agreed one,
    // as when its rotation re-sealed no older version of the entry (docs/SYNC.md, "Not yet, and
    // why"): the re-seal's revision step undone.
    await rotateOnBothWinnerEditOneAhead(BOB, CAROL);
    // The first desktop's sync wins; the second's gives way and rotates again past it.
    await sync(a);
    const given = await sync(a2);
    expect(given.held).toBe(0);
    expect(given.conflictCopies).toBe(1);
    await sync(a);
    await sync(a2);
    // Switch, which the second desktop never wrote to, is the winner's; Firewall, written on both,
    // keeps both: the winner's in place, the second desktop's beside it. Nothing written back over an edit.
    const expected = ['Firewall (conflict copy)=f-a2', 'Firewall=f-a', 'Switch=s-a'];
    for (const d of [a, a2]) expect(await passwords(d), d.name).toEqual(expected);
  });
});
