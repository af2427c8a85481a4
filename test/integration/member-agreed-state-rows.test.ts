/**
 * Each membership's agreed state (electron/vault/store-replica-people.ts agreedMember) is a
 * settings row of its own, and goes when the membership does: kept as one JSON of them all, every
 * member record taken in read and wrote it whole (a first sync of a team with thousands of
 * memberships took minutes, growing with their square), and a removed member's stayed for good.
 * Real vault files exchanging records as JSON, as a team server would relay them.
 * Users' agreed state (agreedUser) likewise: one row a user, not one JSON rewritten for each user
 * record taken in.
 * Must never: count a check that cannot fail (each case names both sides' values).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { ReadDb } from '../../electron/vault/db';
import { agreedMember, agreedUser } from '../../electron/vault/store-replica-people';
import type { VaultSession } from '../../electron/vault/service';
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

function userRows(file: string): { readonly users: number; readonly agreed: number; readonly oneJson: number; readonly longest: number; readonly roles: string[] } {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare<[], { value: string }>("SELECT value FROM settings WHERE key LIKE 'replica.agreed_user.%'").all();
    return {
      users: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM users').get()?.n ?? -1,
      agreed: rows.length,
      oneJson: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM settings WHERE key = 'replica.agreed_users'").get()?.n ?? -1,
      longest: Math.max(0, ...rows.map((r) => r.value.length)),
      roles: rows.map((r) => (JSON.parse(r.value) as { role: string }).role),
    };
  } finally {
    db.close();
  }
}

/** The owner's and an admin's desktops of one team; an admin's change is relayed to the owner's, who sets nothing aside. */
async function ownerAndAdmin() {
  const { clock, files, netId } = await newPeopleWorld({
    people: [{ name: MEMBER, role: 'technician' }, { name: OTHER, role: 'technician' }, { name: ADMIN, role: 'admin', password: ADMIN_PASSWORD }],
    members: [MEMBER, OTHER],
    desktops: [{ label: 'owner', name: OWNER, password: PASSWORD }, { label: 'admin', name: ADMIN, password: ADMIN_PASSWORD }],
  });
  const [ownerFile = '', adminFile = ''] = files;
  const adminChangeTakenByOwner = async (change: (admin: VaultSession) => Promise<unknown>): Promise<void> => {
    const admin = await Vault.open(adminFile, clock).signIn(ADMIN, ADMIN_PASSWORD);
    await change(admin);
    const out = await admin.replica.outgoing();
    await admin.close();
    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    const taken = await owner.replica.apply(wire(out), { hold: true, caughtUp: true });
    await owner.close();
    expect(taken.held).toEqual([]);
  };
  return { ownerFile, netId, adminChangeTakenByOwner };
}

describe("memberships' agreed state", () => {
  it('is one small row a membership held, and a removal taken in forgets its own', async () => {
    const { ownerFile, netId, adminChangeTakenByOwner } = await ownerAndAdmin();
    const before = counts(ownerFile);
    expect(before.memberships).toBeGreaterThan(2);
    expect(before.agreed).toBe(before.memberships);
    expect(before.longest).toBeLessThan(100);

    await adminChangeTakenByOwner(async (admin) => admin.team.revoke(netId, OTHER, await admin.team.memberRevision(netId, OTHER)));
    const after = counts(ownerFile);
    expect(after.memberships).toBe(before.memberships - 1);
    expect(after.agreed).toBe(after.memberships);
  });

  it('forgets a removed membership in a file that kept them all in one JSON', async () => {
    const { ownerFile, netId, adminChangeTakenByOwner } = await ownerAndAdmin();
    // A file of the build that kept them in one JSON ('replica.agreed_members'): every row moved into it.
    const ids = (() => {
      const db = new Database(ownerFile);
      try {
        const rows = db.prepare<[], { key: string; value: string }>("SELECT key, value FROM settings WHERE key LIKE 'replica.agreed_member.%'").all();
        const one = Object.fromEntries(rows.map((r) => [r.key.slice('replica.agreed_member.'.length), JSON.parse(r.value) as unknown]));
        db.prepare("DELETE FROM settings WHERE key LIKE 'replica.agreed_member.%'").run();
        db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run('replica.agreed_members', JSON.stringify(one));
        return Object.keys(one);
      } finally {
        db.close();
      }
    })();
    const agreedNow = (): number => {
      const db = new Database(ownerFile, { readonly: true });
      try {
        // The store's read functions take the app's branded handle; this test reads the same file through a plain one.
        return ids.filter((hex) => agreedMember(db as unknown as ReadDb, Buffer.from(hex, 'hex')) !== undefined).length;
      } finally {
        db.close();
      }
    };
    const before = counts(ownerFile);
    expect(agreedNow()).toBe(before.memberships);

    await adminChangeTakenByOwner(async (admin) => admin.team.revoke(netId, OTHER, await admin.team.memberRevision(netId, OTHER)));
    // The removed membership has no agreed state left (before the fix the JSON's was read again); the others keep theirs.
    const after = counts(ownerFile);
    expect(after.memberships).toBe(before.memberships - 1);
    expect(agreedNow()).toBe(after.memberships);
    expect(after.agreed).toBe(after.memberships);
  });

  it("keeps users' agreed state one small row a user, a user record taken in rewriting its own", async () => {
    const { ownerFile, adminChangeTakenByOwner } = await ownerAndAdmin();
    const before = userRows(ownerFile);
    expect(before.users).toBeGreaterThan(3);
    expect(before.agreed).toBe(before.users);
    expect(before.oneJson).toBe(0);
    expect(before.longest).toBeLessThan(100);

    await adminChangeTakenByOwner(async (admin) => admin.team.changeRole(MEMBER, 'auditor', await admin.team.userRevision(MEMBER)));
    const after = userRows(ownerFile);
    expect(after.agreed).toBe(before.users);
    expect(after.oneJson).toBe(0);
    expect(after.roles).toContain('auditor');
    expect(before.roles).not.toContain('auditor');

    // A file from a build that kept them all in one JSON ('replica.agreed_users') is still read.
    const db = new Database(ownerFile);
    try {
      const row = db.prepare<[], { key: string; value: string }>("SELECT key, value FROM settings WHERE key LIKE 'replica.agreed_user.%' ORDER BY key LIMIT 1").get();
      expect(row).toBeDefined();
      const hex = (row?.key ?? '').slice('replica.agreed_user.'.length);
      db.prepare('DELETE FROM settings WHERE key = ?').run(row?.key ?? '');
      db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run('replica.agreed_users', JSON.stringify({ [hex]: JSON.parse(row?.value ?? 'null') as unknown }));
      // The store's read functions take the app's branded handle; this test reads the same file through a plain one.
      const read = db as unknown as ReadDb;
      expect(agreedUser(read, Buffer.from(hex, 'hex'))).toEqual(JSON.parse(row?.value ?? 'null'));
    } finally {
      db.close();
    }
  });
});
