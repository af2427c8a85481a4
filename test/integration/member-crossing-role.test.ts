/**
 * A secret key the owner's desktop gave mo by a role change not yet sent, when a record from
 * elsewhere sets mo to a role that holds no secret key (taken over the owner's, the tighter:
 * replica-people-in.ts takeUser) — alone, or with a member record of mo crossing the change
 * (takeCrossing): the wrap given here is not kept nor sent, so mo's own desktop never opens the
 * group's passwords with a role that may not. Real vault files exchanging records as JSON.
 * Must never: count a check that cannot fail (each case names both sides' values).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { ReplicaRecord } from '../../shared/sync/records';
import { uidText } from '../../electron/vault/ids';
import type { Clock } from '../../electron/vault/service';
import { Vault } from '../../electron/vault/vault';
import { ADMIN, ADMIN_PASSWORD, MEMBER, newPeopleWorld, OWNER, PASSWORD, wire } from '../support/people-world';

/** A custom role that holds no secret key: it sees the list alone. */
const READER = 'reader';

/** mo an auditor in Network (no secret key), the custom role `reader` defined; the owner's and the admin's desktops. */
async function setUp() {
  const { clock, files, netId } = await newPeopleWorld({
    people: [{ name: MEMBER, role: 'auditor' }, { name: ADMIN, role: 'admin', password: ADMIN_PASSWORD }],
    members: [MEMBER],
    desktops: [{ label: 'owner', name: OWNER, password: PASSWORD }, { label: 'admin', name: ADMIN, password: ADMIN_PASSWORD }],
    beforeCopies: async (file: string, c: Clock) => {
      const owner = await Vault.open(file, c).signIn(OWNER, PASSWORD);
      await owner.team.defineRole(READER, ['entries.view'], await owner.team.roleRevision(READER));
      await owner.close();
    },
  });
  const [ownerFile = '', adminFile = ''] = files;
  return { clock, ownerFile, adminFile, netId };
}

function moRow(file: string, groupId: number) {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[number, string], { lead: number; secret: number }>(
      'SELECT gk.is_lead AS lead, gk.wrapped_secret_key IS NOT NULL AS secret FROM group_keys gk JOIN users u ON u.id = gk.user_id WHERE gk.group_id = ? AND u.name = ?',
    ).get(groupId, MEMBER);
  } finally {
    db.close();
  }
}

function moUid(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return uidText(db.prepare<[string], { uid: Buffer }>('SELECT uid FROM users WHERE name = ?').get(MEMBER)?.uid ?? Buffer.alloc(16));
  } finally {
    db.close();
  }
}

/** Whether any member record of mo a batch carries wraps the secret key. */
const wrapsMoSecret = (records: readonly ReplicaRecord[], mo: string): boolean => records.some((r) => r.kind === 'member' && r.user === mo && r.wrappedSecretKey !== null);

describe('a secret key given here by a role change, crossed by a role from elsewhere that holds none', () => {
  for (const withLead of [false, true]) {
    it(`is not kept nor sent${withLead ? ', with a member record of mo (a lead making) crossing it' : ''}`, async () => {
      const { clock, ownerFile, adminFile, netId } = await setUp();
      const mo = moUid(ownerFile);
      const admin = await Vault.open(adminFile, clock).signIn(ADMIN, ADMIN_PASSWORD);
      await admin.team.changeRole(MEMBER, READER, await admin.team.userRevision(MEMBER));
      if (withLead) await admin.team.setLead(netId, MEMBER, true, await admin.team.memberRevision(netId, MEMBER));
      const out = await admin.replica.outgoing();
      await admin.close();
      expect(wrapsMoSecret(out.batch.records, mo)).toBe(false);

      const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
      await owner.team.changeRole(MEMBER, 'technician', await owner.team.userRevision(MEMBER));
      expect(moRow(ownerFile, netId)).toEqual({ lead: 0, secret: 1 });
      const taken = await owner.replica.apply(wire(out), { hold: true, caughtUp: true });
      expect(taken.held).toEqual([]);
      const again = await owner.replica.outgoing();
      const role = (await owner.team.listUsers()).find((u) => u.name === MEMBER)?.role;
      await owner.close();
      // The role from elsewhere taken (the tighter): it holds no secret key, so neither does mo's row, nor what goes out.
      expect(role).toBe(READER);
      expect(moRow(ownerFile, netId)).toEqual({ lead: withLead ? 1 : 0, secret: 0 });
      expect(wrapsMoSecret(again.batch.records, mo)).toBe(false);
      expect(taken.crossed.map((c) => c.user)).toContain(MEMBER);
    });
  }
});
