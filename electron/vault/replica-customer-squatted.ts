/**
 * A customer name squatted (hostile review of C1; docs/SYNC.md "Same-named customers"): a member's
 * altered desktop can store a customer record under a name's keyed index whose sealed name is not
 * that name. The server opens nothing, so it cannot tell, and refuses every other customer of the
 * name; every honest desktop sets the record aside. This desktop's own customer of the name, made
 * here and not sent, goes over it: folded into the record's id (replica-customer-fold.ts) and left
 * one revision past it, its real name sealed under the directory key, so the next push sends it as
 * that record's next revision and the team holds one readable customer of the name with this
 * desktop's entries under it.
 * Must never go over a record that may be honest: only one whose keyed index is this customer's
 * name's under the directory key held now (its sender held that key, and every desktop seals a
 * name under the key it indexes it with: customer-names.ts, directory.ts rotateDirectory) and whose
 * sealed name opens to that name under no directory key this desktop holds; never for a person
 * whose role may not add customers (what every desktop asks of a customer record's sender); never
 * over a revision of an id that may have held an honest customer before (a base other than 0, or a
 * customer here under that id): only the record that made its id.
 */
import type { Permission } from '../../shared/policy';
import { openJson, sealJson } from './crypto';
import type { WriteDb } from './db';
import { directoryKeyFor } from './directory';
import { contexts, customerIndex, normaliseName } from './keys';
import { foldUnsentCustomer, type FoldSession } from './replica-customer-fold';
import { customerByNameIndex, customerByUid, replicaBase, setReplicaBase, setRevision } from './store-replica';

/** The set-aside record as it came: its id, revision, the revision it claims to build on, and what it seals under which index. */
export interface SquattingCustomer {
  readonly uid: Buffer;
  readonly revision: number;
  readonly base: number;
  readonly sealedName: Buffer;
  readonly nameIndex: Buffer;
}

/** What going over it did: the customer here (row id and name), and how many of this person's events the fold signed again. */
export interface WentOver {
  readonly customerId: number;
  readonly name: string;
  readonly signedAgain: number;
}

/** What it needs of the signed-in session beyond a fold's: the name of a customer here, and the person's permissions. */
export interface SquatSession extends FoldSession {
  readonly customerName: (db: WriteDb, customerId: number) => string;
  readonly permissions: readonly Permission[];
}

/**
 * Whether `sealed` opens to `name` under any directory key version this desktop holds (then it is no squat): the
 * name as its index knows it (case, spaces, Unicode form: normaliseName), not as typed here.
 */
function opensAsUnderAnyKey(db: WriteDb, session: SquatSession, sealed: Buffer, uid: Buffer, name: string): boolean {
  for (let version = session.ring.directoryVersion; version >= 1; version--) {
    try {
      const opened: unknown = openJson(directoryKeyFor(db, session.ring, version), sealed, contexts.customerName({ uid }));
      if (typeof opened === 'string' && normaliseName(opened) === normaliseName(name)) return true;
    } catch {
      // Not under this version (or the version is not reachable here): the next one down.
    }
  }
  return false;
}

/**
 * Goes over `squat` (a customer record whose name does not open here or is not its index's) with
 * this desktop's unsent customer of the same keyed name, in the caller's write transaction; returns
 * undefined, changing nothing, when there is none or it may not (above). A fold that cannot be made
 * throws its CONFLICT (replica-customer-fold.ts), nothing changed: the customer stays held back.
 */
export function goOverSquattedCustomer(db: WriteDb, session: SquatSession, squat: SquattingCustomer): WentOver | undefined {
  const mine = customerByNameIndex(db, squat.nameIndex);
  if (mine === undefined) return undefined;
  const same = mine.uid.equals(squat.uid);
  const agreed = replicaBase(db, mine.uid);
  // Only what this desktop has still to send: a customer never handed on, or its own going over sent and met by a newer squat.
  if (same ? mine.revision <= agreed || squat.revision <= agreed : agreed !== 0) return undefined;
  // Another id only where the record made it (signed base 0) and no customer here holds it: a garbage revision
  // over a customer the team holds (taken in here, or made and replaced between two pulls) would fold this one
  // into it, its name sealed over the team's customer (and its row met here: a UNIQUE failure that ended every sync).
  if (!same && (squat.base !== 0 || customerByUid(db, squat.uid) !== undefined)) return undefined;
  if (!session.permissions.includes('entries.create') && !session.permissions.includes('entries.edit')) return undefined;
  let name: string;
  try {
    name = session.customerName(db, mine.id);
  } catch {
    return undefined;
  }
  if (!customerIndex(session.ring, name).equals(squat.nameIndex)) return undefined;
  if (opensAsUnderAnyKey(db, session, squat.sealedName, squat.uid, name)) return undefined;
  const signedAgain = same ? 0 : foldUnsentCustomer(db, session, mine, {
    uid: squat.uid, revision: squat.revision, sealed_name: sealJson(session.ring.directoryKey, name, contexts.customerName({ uid: squat.uid })), name_index: squat.nameIndex, created_at: mine.created_at,
  });
  // One past the record it goes over, based on it: the server takes it as that record's next revision.
  setReplicaBase(db, squat.uid, squat.revision);
  setRevision(db, 'customers', mine.id, squat.revision + 1);
  return { customerId: mine.id, name, signedAgain };
}
