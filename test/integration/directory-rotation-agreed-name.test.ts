/**
 * A group's name kept as agreed while a rename made here waits unsent (store-agreed-group.ts; docs/SYNC.md "A rename its
 * lead may no longer send") is sealed again with every name when the directory key rotates (a user disabled): left
 * under the old key, it no longer opened here, and a rename its person may no longer send could not go back to it.
 * So is what a deletion made here and not sent keeps of its group (replica-group-undelete.ts).
 * Must never: read the wall clock.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openJson } from '../../electron/vault/crypto';
import { contexts } from '../../electron/vault/keys';
import type { VaultSession } from '../../electron/vault/service';
import { FAST_KDF, manualClock, newVault } from '../support/vault';

/** The directory key a session holds (a private field). */
function directoryKeyOf(session: VaultSession): Buffer {
  return Buffer.from((session as unknown as { ring: { directoryKey: Buffer } }).ring.directoryKey);
}

/** The name kept as agreed for a group in the file, opened with `key` (undefined: none kept, or it does not open). */
function agreedNameIn(file: string, groupId: number, key: Buffer): unknown {
  const db = new Database(file, { readonly: true });
  try {
    const value = (db.prepare('SELECT value FROM meta WHERE key = ?').get(`agreed_name:${groupId}`) as { value: string } | undefined)?.value;
    const uid = (db.prepare('SELECT uid FROM access_groups WHERE id = ?').get(groupId) as { uid: Buffer }).uid;
    if (value === undefined) return undefined;
    const sealed = Buffer.from((JSON.parse(value) as { n: string }).n, 'base64');
    try {
      return openJson(key, sealed, contexts.groupName({ uid }));
    } catch {
      return undefined;
    }
  } finally {
    db.close();
  }
}

/** The name a deletion not sent keeps of a group in the file (store-agreed-group.ts keepDeletion), opened with `key`. */
function keptDeletionNameIn(file: string, groupId: number, key: Buffer): unknown {
  const db = new Database(file, { readonly: true });
  try {
    const value = (db.prepare('SELECT value FROM meta WHERE key = ?').get(`deletion_kept:${groupId}`) as { value: string } | undefined)?.value;
    const uid = (db.prepare('SELECT uid FROM access_groups WHERE id = ?').get(groupId) as { uid: Buffer }).uid;
    if (value === undefined) return undefined;
    try {
      return openJson(key, Buffer.from((JSON.parse(value) as { n: string }).n, 'base64'), contexts.groupName({ uid }));
    } catch {
      return undefined;
    }
  } finally {
    db.close();
  }
}

describe('a directory key rotation with a rename waiting here', () => {
  it('seals the name kept as agreed again with the rest', async () => {
    const { file, session: owner } = await newVault(manualClock());
    await owner.createUser('mallory', 'technician', 'mallory password', FAST_KDF);
    const ops = await owner.team.createGroup('Ops');
    await owner.team.renameGroup(ops.id, 'Ops West', ops.revision);
    expect(agreedNameIn(file, ops.id, directoryKeyOf(owner))).toBe('Ops');
    await owner.team.disableUser('mallory', await owner.team.userRevision('mallory'));
    expect(agreedNameIn(file, ops.id, directoryKeyOf(owner))).toBe('Ops');
  });

  it('seals the name a deletion not sent keeps of its group again too (replica-group-undelete.ts)', async () => {
    const { file, session: owner } = await newVault(manualClock());
    await owner.createUser('mallory', 'technician', 'mallory password', FAST_KDF);
    const spare = await owner.team.createGroup('Spare');
    // As a desktop of a team holds it: everything agreed with the server.
    await owner.replica.agreeAll();
    await owner.team.deleteGroup(spare.id, await owner.team.groupRevision(spare.id));
    expect(keptDeletionNameIn(file, spare.id, directoryKeyOf(owner))).toBe('Spare');
    await owner.team.disableUser('mallory', await owner.team.userRevision('mallory'));
    expect(keptDeletionNameIn(file, spare.id, directoryKeyOf(owner))).toBe('Spare');
  });
});
