/**
 * Who a pushing or pulling account is in a team vault, and what it may change of the vault's
 * people, groups and memberships (#15, docs/SYNC.md). The server decides from what it holds
 * (server/store/membership.ts): the account's vault user, set by an owner's desktop or — once —
 * by the vault's creator binding itself as its owner; never by whoever pushes first.
 * Must never: let an account act as a vault user it is not bound to, or a disabled one act.
 */
import { CrewvaultError } from '../../shared/errors';
import type { Queryable, Transaction } from '../store/db';
import { getPerson, personOfAccount, putPerson } from '../store/membership';

/** The account in this vault: the vault user it acts as (null: the creator, not bound yet), and their role. */
export interface InVault {
  readonly vaultUser: string | null;
  readonly role: string | null;
}

function notAPerson(): CrewvaultError {
  return new CrewvaultError('FORBIDDEN', 'This account is not a person of this vault: an owner adds you to it from their desktop.');
}

/**
 * The pushing account as a person of the vault. Bound already: that person (refused when
 * disabled). Not bound: only the vault's creator (an owner of this server, who moved the vault
 * here) binds itself, once, as an owner, to the one vault user its records are signed by — and
 * only to a vault user no other account holds and no owner's desktop gave another role.
 */
export async function actingPerson(tx: Transaction, vaultId: string, createdBy: string, accountId: string, signedBy: ReadonlySet<string>): Promise<InVault> {
  const person = await personOfAccount(tx, vaultId, accountId);
  if (person !== undefined) {
    if (person.disabled) throw new CrewvaultError('FORBIDDEN', 'Your vault user is disabled: nothing was stored.');
    return person;
  }
  if (accountId !== createdBy) throw notAPerson();
  if (signedBy.size === 0) return { vaultUser: null, role: 'owner' };
  const [author] = [...signedBy];
  if (signedBy.size !== 1 || author === undefined) throw new CrewvaultError('FORBIDDEN', 'These records are signed in more than one person\'s name.');
  const existing = await getPerson(tx, vaultId, author);
  if (existing !== undefined && (existing.accountId !== null || (existing.role !== null && existing.role !== 'owner') || existing.disabled)) {
    throw new CrewvaultError('FORBIDDEN', 'These records are signed in another person\'s name.');
  }
  const bound = { vaultUser: author, accountId, role: 'owner', disabled: false };
  await putPerson(tx, vaultId, bound);
  return bound;
}

/** The pulling account as a person of the vault (read-only: a pull binds nobody). */
export async function pullingPerson(db: Queryable, vaultId: string, createdBy: string, accountId: string): Promise<InVault> {
  const person = await personOfAccount(db, vaultId, accountId);
  if (person !== undefined) {
    if (person.disabled) throw new CrewvaultError('FORBIDDEN', 'Your vault user is disabled.');
    return person;
  }
  if (accountId === createdBy) return { vaultUser: null, role: 'owner' };
  throw notAPerson();
}
