/**
 * How the stores read a vault's rows named by a list of keys: each key a probe of the table's
 * primary key (vault_id, key), as a LATERAL ... LIMIT 1 the planner cannot flatten into a join.
 * Written as `vault_id = $1 AND key = ANY($2)`, the planner may take `vault_id = $1` for a few rows
 * (no statistics yet: 0.5% of the table) and read them all through another index of the vault,
 * filtering the keys: a push's signature check read every batch its vault had ever stored (3,080
 * rows, 230 buffers, 1.95 ms against ~0.2 ms, and growing with every push), the push's held
 * revisions every record. A plan kept for a connection (server/store/db.ts GENERIC_PLANS) keeps
 * such a choice until the table is analyzed. Keys asked twice are read once. The probe has no
 * other condition: one on a partial index's column (`kind = 'entry'`) let the planner probe that
 * index instead, filtering each key, and a key with no row read every row of the vault it holds (a
 * hostile review, PGlite at ~300 records a vault). A caller filters the rows it gets outside.
 * test/server/key-read-plans.test.ts checks each such read's plan, custom and generic.
 */

export interface KeyedRead {
  /** The table, its vault column named vault_id, its primary key (vault_id, `key`). */
  readonly table: string;
  readonly key: string;
  /** What is read of each row (columns or expressions of the table, with their names). */
  readonly columns: string;
  /** The vault and the keys, as the statement's parameters (e.g. `$1`, `$2::text[]`). */
  readonly vault: string;
  readonly keys: string;
  /** The name the rows go by in the statement. */
  readonly as: string;
}

/** A FROM item: the rows of `vault` named by `keys` (a key with no row is absent), as `as`. */
export function rowsByKeys(read: KeyedRead): string {
  return `(SELECT DISTINCT k FROM unnest(${read.keys}) AS ${read.as}_keys(k)) AS ${read.as}_key
     CROSS JOIN LATERAL (SELECT ${read.columns} FROM ${read.table} WHERE vault_id = ${read.vault} AND ${read.key} = ${read.as}_key.k LIMIT 1) AS ${read.as}`;
}
