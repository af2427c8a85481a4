/**
 * The base-revision rule for shared objects other than entries (#13: "a write names the revision
 * it was based on; a stale one is refused with CONFLICT"): groups and their memberships, custom
 * roles, users, the MFA policy and the vault-wide settings (store-revisions.ts). Each write's
 * caller names the revision it read (a summary's `revision`; 0 for "it does not exist yet", as a
 * role about to be created or a policy never set), and the vault compares it with the stored
 * one inside the write's own transaction, before anything is written. Entries keep their own rule
 * (entries-service.ts requireBaseRevision). Must never be skipped by a door, and never consulted
 * for records the team sync applies (replica-service.ts has its own agreed-revision rules).
 */
import { CrewvaultError } from '../../shared/errors';

/** What a stale or missing base names, for the one-line error. */
export type RevisedKind = 'group' | 'membership' | 'role' | 'user' | 'policy' | 'settings';

const A: Record<RevisedKind, string> = {
  group: 'a group',
  membership: 'a membership',
  role: 'a role',
  user: 'a user',
  policy: 'the MFA policy',
  settings: 'the vault settings',
};

const WHAT: Record<RevisedKind, string> = {
  group: 'This access group',
  membership: 'This membership',
  role: 'This role',
  user: 'This user',
  policy: 'The MFA policy',
  settings: 'The vault settings',
};

/**
 * INVALID_INPUT when `base` is not a revision (a door that left it out), CONFLICT when it is not
 * `stored` (someone wrote the object since the caller read it). `stored` is 0 for an object that
 * does not exist (yet).
 */
export function requireBase(kind: RevisedKind, stored: number, base: number): void {
  if (typeof base !== 'number' || !Number.isSafeInteger(base) || base < 0) {
    throw new CrewvaultError('INVALID_INPUT', `A change to ${A[kind]} must name the revision it was made from: load it again.`);
  }
  if (base !== stored) {
    throw new CrewvaultError('CONFLICT', `${WHAT[kind]} was changed by someone else since you loaded it (revision ${base}, now ${stored}): load it again and redo your change.`);
  }
}
