/**
 * Review round twelve (b) hole 2, kept, and its neighbours (#15, docs/SYNC.md "Events of groups one
 * does not hold"): a v3 row held redacted in a vault file (header and body digest) is judged by
 * `audit verify` (store-audit.ts verifyAuditChain): one of this file's own device was written whole
 * here, so a redacted one had its body stripped in the file (every unkeyed hash and the head
 * recomputed, no key needed) and is refused, with or without a session; one of another device, as
 * carol holds Ops's events, verifies by signature and chain; and with a session, a redacted row is
 * judged by that person's groups: an owner's keyed verify refuses any (an owner is owed every body;
 * a member with audit.read, by the scope keys of the groups they hold).
 * A real server (PGlite, loopback HTTP), real vault files, the real sync and audit verify.
 * Must never: edit a desktop's own file but through a copy.
 */
import { createHash } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { uidText } from '../../electron/vault/ids';
import { Vault } from '../../electron/vault/vault';
import { rechainAuditFrom } from '../support/audit-forger';
import { VAULT_LOGIN, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock, tempVaultPath } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 9, 0, 0));
const world = useTeamDesktops('crewvault-v3-local-strip', clock);
const { a, b, c, sync, setPassword } = world;
const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

type Row = {
  id: number; at: number; actor_id: number | null; action: string; subject: string | null; entry_id: number | null; customer_id: number | null; group_id: number | null;
  sealed_detail: Buffer | null; prev_hash: Buffer; hash: Buffer; scope: Buffer | null; body_salt: Buffer | null; body_digest: Buffer | null; uid: Buffer; device_id: Buffer | null;
};

/**
 * A copy of `d`'s file with its newest whole v3 entry event whose device `ofDevice` accepts stripped
 * to the digest its author signed, every hash from it on and the head recomputed (store-audit.ts
 * rowHash needs no key): what someone holding only the file can do.
 */
function strippedCopy(d: Desktop, ofDevice: (device: Buffer, own: Buffer) => boolean): string {
  const file = tempVaultPath();
  copyFileSync(d.file, file);
  const db = new Database(file);
  try {
    const own = Buffer.from((db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'this_device_derived'").get()?.value ?? '').split(':')[0] ?? '', 'hex');
    const all = db.prepare<[], Row>('SELECT * FROM audit_log ORDER BY id').all();
    const victim = [...all].reverse().find((r) => r.scope !== null && r.body_salt !== null && r.entry_id !== null && r.device_id !== null && ofDevice(r.device_id, own));
    if (!victim) throw new Error('no whole v3 entry event of that device');
    const vaultId = (db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'vault_id'").get()?.value) ?? '';
    const uidOf = (table: string, id: number | null): string | null => {
      const row = id === null ? undefined : db.prepare<[number], { uid: Buffer }>(`SELECT uid FROM ${table} WHERE id = ?`).get(id);
      return row ? uidText(row.uid) : null;
    };
    // The digest the author signed (event-v3.ts eventBodyDigest), from what the row holds.
    const digest = sha256Hex(JSON.stringify(['crewvault/v3 audit event body', vaultId, uidText(victim.uid), victim.body_salt?.toString('hex'), victim.subject,
      uidOf('entries', victim.entry_id), uidOf('customers', victim.customer_id), uidOf('access_groups', victim.group_id),
      victim.sealed_detail ? victim.sealed_detail.toString('base64') : null]));
    db.prepare('UPDATE audit_log SET subject = NULL, entry_id = NULL, customer_id = NULL, group_id = NULL, sealed_detail = NULL, body_salt = NULL, body_digest = ? WHERE id = ?').run(Buffer.from(digest, 'hex'), victim.id);
    rechainAuditFrom(db, victim);
  } finally {
    db.close();
  }
  return file;
}

/** `audit verify` without a password, on `file`. */
async function verifyUnkeyed(file: string): Promise<{ readonly ok: boolean; readonly redacted?: number; readonly reason?: string }> {
  const vault = Vault.open(file, clock);
  try {
    return await vault.verifyAudit();
  } finally {
    await vault.close();
  }
}

/** `audit verify --keyed`'s chain, signed in as `d`'s person on `file`. */
async function verifyKeyed(d: Desktop, file: string): Promise<{ readonly ok: boolean; readonly redacted?: number; readonly reason?: string }> {
  const [user, password] = VAULT_LOGIN[d.person];
  const session = await Vault.open(file, clock).signIn(user, password);
  try {
    return (await session.verifyAuditLog()).chain;
  } finally {
    await session.close();
  }
}

describe('audit verify of v3 rows held redacted', () => {
  it('HOLE 2: a whole v3 event of this very device, its body stripped in the file (hashes and head recomputed, no key), is refused by audit verify', async () => {
    await setPassword(a, 'Acme/Firewall', 'f-9');
    const file = strippedCopy(a, (device, own) => device.equals(own));
    // The owner's own device wrote it whole and the owner holds every group: a redacted row here is a stripped one.
    const unkeyed = await verifyUnkeyed(file);
    expect(unkeyed.ok).toBe(false);
    expect(unkeyed.reason).toMatch(/written whole on this desktop .* its body was stripped/);
  }, 120_000);

  it('a redacted row of another device verifies by signature and chain (carol holds Ops\'s events redacted; a technician has no keyed verify: audit.read)', async () => {
    await setPassword(a, 'Acme/Switch', 's-3');
    expect((await sync(a)).code).toBe('ok');
    expect((await sync(c)).code).toBe('ok');
    const file = tempVaultPath();
    copyFileSync(c.file, file);
    const unkeyed = await verifyUnkeyed(file);
    expect(unkeyed).toMatchObject({ ok: true });
    expect(unkeyed.redacted ?? 0).toBeGreaterThan(0);
  }, 120_000);

  it('an owner\'s keyed verify refuses a redacted row of another device (an owner is owed every body), which verify without a key cannot judge', async () => {
    await setPassword(b, 'Acme/Switch', 's-4');
    expect((await sync(b)).code).toBe('ok');
    expect((await sync(a)).code).toBe('ok');
    const file = strippedCopy(a, (device, own) => !device.equals(own));
    expect(await verifyUnkeyed(file)).toMatchObject({ ok: true, redacted: 1 });
    const keyed = await verifyKeyed(a, file);
    expect(keyed.ok).toBe(false);
    expect(keyed.reason).toMatch(/an owner or admin\) may read: the server withheld it/);
  }, 120_000);
});
