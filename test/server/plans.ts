/**
 * EXPLAIN for the plan tests (snapshot-plans, key-read-plans): a statement's plan as a custom plan
 * (its values known) or as the generic one a prepared statement runs (server/store/db.ts
 * GENERIC_PLANS), each node flattened.
 */
import type { Database, Row } from '../../server/store/db';
import { migrate } from '../../server/store/migrate';

export interface PlanNode { readonly 'Node Type': string; readonly 'Relation Name'?: string; readonly 'Index Name'?: string; readonly Plans?: readonly PlanNode[] }

function nodesOf(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodesOf)];
}

/**
 * The plan's nodes of `sql` run with `params` (strings and numbers, written as literals: an array
 * as '{a,b}'), after `settings` (a statement run first in the same transaction) when given.
 */
export async function planOf(db: Database, sql: string, types: string, params: readonly unknown[], mode: 'custom' | 'generic', settings?: string): Promise<PlanNode[]> {
  return db.transaction(async (tx) => {
    if (settings !== undefined) await tx.query(settings);
    await tx.query(`SET LOCAL plan_cache_mode = force_${mode}_plan`);
    await tx.query(`PREPARE plan_under_test (${types}) AS ${sql}`);
    const literals = params.map((value) => (typeof value === 'string' ? `'${value}'` : String(value))).join(', ');
    const [row] = await tx.query(`EXPLAIN (FORMAT JSON) EXECUTE plan_under_test (${literals})`);
    await tx.query('DEALLOCATE plan_under_test');
    const raw: unknown = (row as Row)['QUERY PLAN'];
    const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as ReadonlyArray<{ readonly Plan: PlanNode }>;
    const top = plan[0];
    if (top === undefined) throw new Error('EXPLAIN gave no plan');
    return nodesOf(top.Plan);
  });
}

/** A migrated database with one account (u1) and two vaults of it (v1, v2) at sequence `seq`, for the plan tests' rows. */
export async function twoVaults(db: Database, seq: number): Promise<readonly ['v1', 'v2']> {
  await migrate(db);
  await db.query("INSERT INTO users (id, username, username_key, role, registration_record, created_at, password_changed_at) VALUES ('u1', 'Ada', 'ada', 'owner', 'rec', 1, 1)");
  for (const vault of ['v1', 'v2']) await db.query('INSERT INTO sync_vaults (vault_id, seq, created_by, created_at) VALUES ($1, $2, $3, 1)', [vault, seq, 'u1']);
  return ['v1', 'v2'];
}
