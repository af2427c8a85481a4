/**
 * Local: this desktop's audit events kept out of its pushes (docs/SYNC.md "A desktop two people
 * share"). The team server refuses, whole, a push carrying an event of a person disabled in the
 * vault (server/sync/verify.ts: their offline events cannot be placed before the disabling), so a
 * desktop two people sign in on, whose other person was disabled before their events went, had
 * every push refused for ever. The push now leaves out this device's chain from its first event
 * of a disabled author (replica-service.ts outgoing): that event and every later one of the chain,
 * which link through it. Once the push that left them out is stored, they are noted here (meta
 * `events_not_sent`: the device, the first event, how many, whose) and the device takes a new id
 * (store-device.ts forgetThisDevice), so the desktop's next events start a chain the server takes.
 * The events stay in the file's log, told by `crewvault sync` and `crewvault audit verify`.
 * Must never: delete or change an event, or note an event a push carried.
 */
import type { ReadDb, WriteDb } from './db';
import { forgetThisDevice } from './store-device';
import { getMeta, setMeta } from './store-meta';
import { listUsers } from './store-users';

const KEY = 'events_not_sent';

/** A device chain's tail kept out of pushes: the device and first event (hex), how many events, the disabled authors named, when noted. */
export interface EventsNotSent {
  readonly device: string;
  readonly from: string;
  readonly events: number;
  readonly authors: readonly string[];
  readonly at: number;
}

/** What a push leaves out (replica-service.ts outgoing): this device's chain from `from` on, for `authors` (names) disabled here. */
export interface EventsLeftOut {
  readonly device: Buffer;
  readonly from: Buffer;
  readonly authors: readonly string[];
}

/** The users disabled in this vault, by global id (hex): their names. */
export function disabledUsers(db: ReadDb): Map<string, string> {
  return new Map(listUsers(db).filter((u) => u.disabled_at !== null).map((u) => [u.uid.toString('hex'), u.name]));
}

/** Every chain tail noted, oldest first. A note that does not read is none (the file is this desktop's own). */
export function eventsNotSent(db: ReadDb): EventsNotSent[] {
  try {
    const parsed = JSON.parse(getMeta(db, KEY) ?? '[]') as unknown;
    return Array.isArray(parsed) ? (parsed as EventsNotSent[]) : [];
  } catch {
    return [];
  }
}

/**
 * The push that left `out` out is stored: noted (counting the chain's events from its first on,
 * those written since the push was gathered too) and the device given a new id at its next event.
 */
export function noteEventsNotSent(db: WriteDb, out: EventsLeftOut, now: number): EventsNotSent {
  const row = db.prepare<[Buffer, Buffer], { n: number }>('SELECT count(*) AS n FROM audit_log WHERE device_id = ? AND seq >= (SELECT seq FROM audit_log WHERE uid = ?)').get(out.device, out.from);
  const note: EventsNotSent = { device: out.device.toString('hex'), from: out.from.toString('hex'), events: row?.n ?? 0, authors: [...out.authors], at: now };
  setMeta(db, KEY, JSON.stringify([...eventsNotSent(db).filter((n) => n.device !== note.device), note]));
  forgetThisDevice(db);
  return note;
}

/** One line for a person: how many events, whose, why, and that they stay in the log. */
export function eventsNotSentLine(note: EventsNotSent): string {
  const whose = note.authors.join(', ');
  return `${note.events} audit event${note.events === 1 ? '' : 's'} of this desktop will not be sent: from ${whose}'s first unsent one on (${whose} ${note.authors.length === 1 ? 'is' : 'are'} disabled in this vault, and the team server takes no event of a disabled person; the events after it on this desktop's chain follow it). They stay in this file's audit log; this desktop's later events go on a new device id.`;
}
