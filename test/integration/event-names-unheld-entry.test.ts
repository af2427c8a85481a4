/**
 * A received audit event naming an entry the receiver lacks is held there as #15's emptied tombstone
 * only when its author may have held the group it names (hostile review of #15; SECURITY.md Known
 * limits): carol (the default group only) signs, on her own device chain, a 'password.reveal' naming
 * an entry id nobody holds in Ops, a group she never held, and pushes it. After #15 the owner took
 * it (her log showed a reveal she could not have made); now the owner refuses it, as before #15
 * ("an access group its event's author is not known here to have held"), set aside with her chain
 * after it, her earlier events kept and the owner's history verifying. A real team server (PGlite,
 * loopback HTTP), real vault files, the CLI's sync. Must never put a password in a process argument.
 */
import { createHash, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { uidText } from '../../electron/vault/ids';
import { eventRecordSigningText as eventFields } from '../../electron/vault/audit-event-texts';
import { signBytes } from '../../electron/vault/signing';
import { groupUidIn, CAROL, setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { signerOf } from '../support/desktop-copies';
import { manualClock } from '../support/vault';
import { REPLICA_FORMAT, type EventRecord } from '../../shared/sync/records';
import { eventSigningText } from '../../shared/sync/signing-keys';

/** Whether the file holds a row (a tombstone included) of the entry with global id `uid`. */
function entryHeld(file: string, uid: string | null): boolean {
  if (uid === null) return false;
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT 1 FROM entries WHERE uid = ?').get(Buffer.from(uid.replaceAll('-', ''), 'hex')) !== undefined;
  } finally {
    db.close();
  }
}

const clock = manualClock(Date.UTC(2026, 11, 7, 8, 0, 0));
const team = useTeamDesktops('crewvault-event-unheld', clock);
const { a, c, onDesktop, answer, teamClient } = team;

describe('an event naming an entry nobody holds, in a group its author never held', () => {
  it('is refused by the owner (set aside, as before #15), her earlier reveal kept and the history verifying', async () => {
    const printer = await onDesktop(c, (s) => s.resolvePath('Acme/Printer'));
    await onDesktop(c, (s) => s.revealPassword(printer.id));
    expect(await answer(c)).toBe('ok');
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const ops = groupUidIn(a.file, team.opsId);
    clock.advance(1_000);
    const db = new Database(c.file, { readonly: true });
    const last = db.prepare<[], { signature: Buffer; device_id: Buffer; key: Buffer; actor: Buffer }>(`SELECT a.signature, a.device_id, k.uid AS key, u.uid AS actor FROM audit_log a
      JOIN signing_keys k ON k.id = a.signer_key_id JOIN users u ON u.id = a.actor_id WHERE u.name = 'carol' AND a.signature IS NOT NULL ORDER BY a.id DESC LIMIT 1`).get();
    const customer = db.prepare<[], { uid: Buffer }>('SELECT uid FROM customers LIMIT 1').get();
    db.close();
    if (last === undefined || customer === undefined) throw new Error('carol has no event');
    const unsigned: EventRecord = {
      kind: 'event', id: randomUUID(), at: clock.now(), actor: uidText(last.actor), action: 'password.reveal', subject: null,
      entry: randomUUID(), customer: uidText(customer.uid), group: ops, sealedDetail: null, device: last.device_id.toString('base64url'),
      devicePrev: createHash('sha256').update(last.signature).digest('base64url'), signerKey: uidText(last.key), signature: null,
    };
    const privateKey = await onDesktop(c, (s) => Promise.resolve(signerOf(s).privateKey));
    const forged = { ...unsigned, signature: signBytes(privateKey, Buffer.from(eventSigningText(vault, eventFields(unsigned)), 'utf8')).toString('base64url') };
    await (await teamClient(c)).call('syncPush', { batch: { format: REPLICA_FORMAT, vault, records: [forged] } });
    expect(await answer(a)).toBe('ok');
    const aside = setAsideOn(a);
    expect(aside).toHaveLength(1);
    expect(aside[0]).toContain('an access group its event\'s author is not known here to have held');
    const rows = await onDesktop(a, async (s) => (await s.auditLog()).filter((r) => r.actor === CAROL && r.action === 'password.reveal'));
    expect(rows.length, 'carol\'s reveals in the owner\'s log: her real one only').toBe(1);
    expect(entryHeld(a.file, unsigned.entry), 'no tombstone of the made-up entry').toBe(false);
    // Set aside, it is tried again at the next sync, and refused again: nothing of Ops was ever hers.
    expect(await answer(a)).toBe('ok');
    expect(setAsideOn(a)).toHaveLength(1);
    expect(await onDesktop(a, async (s) => (await s.verifyAuditLog()).chain)).toMatchObject({ ok: true });
  });
});
