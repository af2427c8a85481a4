/**
 * Each membership's agreed state (electron/vault/store-replica-people.ts agreedMember) is a
 * settings row of its own, and goes when the membership does: kept as one JSON of them all, every
 * member record taken in read and wrote it whole (a first sync of a team with thousands of
 * memberships took minutes, growing with their square), and a removed member's stayed for good.
 * Real vault files exchanging records as JSON, as a team server would relay them.
 * Must never: count a check that cannot fail (each case names both sides' values).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import { ADMIN, ADMIN_PASSWORD, MEMBER, newPeopleWorld, OTHER, OWNER, PASSWORD, wire } from '../support/people-world';

function counts(file: string): { readonly memberships: number; readonly agreed: number; readonly longest: number } {
  const db = new Database(file, { readonly: true });
  try {
    return {
      memberships: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM group_keys').get()?.n ?? -1,
      agreed: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM settings WHERE key LIKE 'replica.agreed_member.%'").get()?.n ?? -1,
      longest: db.prepare<[], { n: number }>("SELECT max(length(value)) AS n FROM settings WHERE key LIKE 'replica.agreed_member%'").get()?.n ?? -1,
    };
  } finally {
    db.close();
  }
}

describe("memberships' agreed state", () => {
  it('is one small row a membership held, and a removal taken in forgets its own', async () => {
    const { clock, files, netId } = await newPeopleWorld({
      people: [{ name: MEMBER, role: 'technician' }, { name: OTHER, role: 'technician' }, { name: ADMIN, role: 'admin', password: ADMIN_PASSWORD }],
      members: [MEMBER, OTHER],
      desktops: [{ label: 'owner', name: OWNER, password: PASSWORD }, { label: 'admin', name: ADMIN, password: ADMIN_PASSWORD }],
    });
    const [ownerFile = '', adminFile = ''] = files;
    const before = counts(ownerFile);
    expect(before.memberships).toBeGreaterThan(2);
    expect(before.agreed).toBe(before.memberships);
    expect(before.longest).toBeLessThan(100);

    const admin = await Vault.open(adminFile, clock).signIn(ADMIN, ADMIN_PASSWORD);
    await admin.team.revoke(netId, OTHER, await admin.team.memberRevision(netId, OTHER));
    const out = await admin.replica.outgoing();
    await admin.close();
    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    const taken = await owner.replica.apply(wire(out), { hold: true, caughtUp: true });
    await owner.close();
    expect(taken.held).toEqual([]);
    const after = counts(ownerFile);
    expect(after.memberships).toBe(before.memberships - 1);
    expect(after.agreed).toBe(after.memberships);
  });
});
