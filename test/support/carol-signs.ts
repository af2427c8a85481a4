/**
 * An audit event carol signs herself, on her own device chain, with her own key: what a member's desktop can sign of
 * anything, whatever it did (the tests of an event's author against the group it names: event-names-unheld-entry,
 * event-unheld-entry-author-held, event-unheld-entry-forged-note). Before, each file read her chain's tail and built
 * the event word for word. Must never put a password in a process argument.
 */
import { createHash, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { eventRecordSigningText as eventFields } from '../../electron/vault/audit-event-texts';
import { uidText } from '../../electron/vault/ids';
import { signBytes } from '../../electron/vault/signing';
import type { EventRecord } from '../../shared/sync/records';
import { eventSigningText } from '../../shared/sync/signing-keys';
import { signerOf } from './desktop-copies';
import type { TeamDesktops } from './team-desktops';

/** What carol's next event on her desktop's file links to (her last signed event: its device, its link, her key and id) and the file's first customer. */
export interface CarolsChainTail {
  readonly actor: string;
  readonly device: string;
  readonly devicePrev: string;
  readonly signerKey: string;
  readonly customer: string;
}

export function carolsChainTail(file: string): CarolsChainTail {
  const db = new Database(file, { readonly: true });
  try {
    const last = db.prepare<[], { signature: Buffer; device_id: Buffer; key: Buffer; actor: Buffer }>(`SELECT a.signature, a.device_id, k.uid AS key, u.uid AS actor FROM audit_log a
      JOIN signing_keys k ON k.id = a.signer_key_id JOIN users u ON u.id = a.actor_id WHERE u.name = 'carol' AND a.signature IS NOT NULL ORDER BY a.id DESC LIMIT 1`).get();
    const customer = db.prepare<[], { uid: Buffer }>('SELECT uid FROM customers LIMIT 1').get();
    if (last === undefined || customer === undefined) throw new Error('carol has no event');
    return {
      actor: uidText(last.actor), device: last.device_id.toString('base64url'), devicePrev: createHash('sha256').update(last.signature).digest('base64url'),
      signerKey: uidText(last.key), customer: uidText(customer.uid),
    };
  } finally {
    db.close();
  }
}

/** carol's `password.reveal` of `entry` in `group` at `at`, next on her chain (`tail`), signed on her desktop (team.c) in `vault`. */
export async function carolsReveal(team: TeamDesktops, vault: string, tail: CarolsChainTail, at: number, entry: string, group: string): Promise<EventRecord> {
  const unsigned: EventRecord = {
    kind: 'event', id: randomUUID(), at, actor: tail.actor, action: 'password.reveal', subject: null, entry, customer: tail.customer, group,
    sealedDetail: null, device: tail.device, devicePrev: tail.devicePrev, signerKey: tail.signerKey, signature: null,
  };
  const privateKey = await team.onDesktop(team.c, (s) => Promise.resolve(signerOf(s).privateKey));
  return { ...unsigned, signature: signBytes(privateKey, Buffer.from(eventSigningText(vault, eventFields(unsigned)), 'utf8')).toString('base64url') };
}
