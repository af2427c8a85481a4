/**
 * Which access group a new entry should go to, so that adding one never quietly shows it to
 * more people than its customer's other entries are shown to: the group those entries are in;
 * none when they are spread over several (the person must choose); for a new customer, the
 * person's only group, else the vault's default group where they hold it (else they choose).
 * Pure: the form shows the answer and why.
 */
import type { EntryTable, GroupSummary } from '../shared/model';

/**
 * The positions of `positions` (all rows when null) whose entry is in `groupId`: the list's
 * group filter, applied after the search so the search's order stands.
 */
export function onlyGroup(table: EntryTable, positions: Int32Array | null, groupId: number): Int32Array {
  const kept: number[] = [];
  const count = positions ? positions.length : table.id.length;
  for (let k = 0; k < count; k++) {
    const i = positions ? (positions[k] ?? -1) : k;
    if (table.groupId[i] === groupId) kept.push(i);
  }
  return Int32Array.from(kept);
}

export type GroupSuggestion =
  /** groupId null: the vault's default group (a new customer, several groups held, the default among them). */
  | { readonly kind: 'suggested'; readonly groupId: number | null; readonly why: string }
  | { readonly kind: 'choose'; readonly why: string };

/** A customer name as two spellings of one customer compare (case and spacing aside). */
export function customerKey(name: string): string {
  return name.normalize('NFC').trim().replace(/\s+/g, ' ').toLocaleLowerCase();
}

/** The groups that hold `customer`'s entries in `table`, among those the person holds. */
export function groupsOfCustomer(table: EntryTable | null, customer: string, held: readonly GroupSummary[]): number[] {
  if (!table) return [];
  const key = customerKey(customer);
  const customers = new Set<number>();
  table.customerNames.forEach((name, index) => {
    if (customerKey(name) === key) customers.add(index);
  });
  if (customers.size === 0) return [];
  const holds = new Set(held.map((g) => g.id));
  const found = new Set<number>();
  table.customer.forEach((customerIndex, row) => {
    const groupId = table.groupId[row];
    if (customers.has(customerIndex) && groupId !== undefined && holds.has(groupId)) found.add(groupId);
  });
  return [...found];
}

export function suggestGroup(table: EntryTable | null, customer: string, held: readonly GroupSummary[]): GroupSuggestion {
  const name = customer.trim();
  const inGroups = name === '' ? [] : groupsOfCustomer(table, name, held);
  const [only] = inGroups;
  if (inGroups.length === 1 && only !== undefined) {
    const group = held.find((g) => g.id === only)?.name ?? 'its group';
    return { kind: 'suggested', groupId: only, why: `${name}'s other entries are in ${group}.` };
  }
  if (inGroups.length > 1) return { kind: 'choose', why: `${name}'s entries are in ${inGroups.length} groups: choose who may see this one.` };
  const [single] = held;
  if (held.length === 1 && single) return { kind: 'suggested', groupId: single.id, why: `${single.name} is your only group.` };
  const typeIt = 'Type the customer to see where its entries are.';
  // Not holding the default group, an entry without a group would land in whichever group the
  // vault took instead: the person chooses, never the form.
  if (!held.some((g) => g.isDefault)) return { kind: 'choose', why: name === '' ? typeIt : `${name} is a new customer: choose who may see its entries.` };
  return { kind: 'suggested', groupId: null, why: name === '' ? typeIt : `${name} is a new customer: its first entry goes to the default group unless you choose another.` };
}
