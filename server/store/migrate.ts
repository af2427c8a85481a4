/**
 * Brings a server database to the schema this build knows, in one transaction: every
 * pending migration or none. A database written by a newer server is refused (VAULT_NEWER)
 * before anything is touched. Several server processes starting at once take turns on an
 * advisory lock, so each migration runs exactly once.
 */
import { CrewvaultError } from '../../shared/errors';
import { int, type Database } from './db';
import { MIGRATIONS, type Migration } from './migrations/index';

/** pg_advisory_xact_lock's key for schema changes: any constant no other lock uses. */
const MIGRATION_LOCK = 0x63726577;

export function latestSchemaVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.at(-1)?.version ?? 0;
}

/** Throws unless versions run 1, 2, 3… with no gap or repeat. */
export function checkMigrationOrder(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new CrewvaultError('INTERNAL', `migration ${migration.name} has version ${migration.version}, expected ${index + 1}`);
    }
  });
}

/** Returns the schema version before and after. */
export async function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): Promise<{ from: number; to: number }> {
  checkMigrationOrder(migrations);
  const latest = latestSchemaVersion(migrations);
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec('CREATE TABLE IF NOT EXISTS crewvault_schema (id int PRIMARY KEY CHECK (id = 1), version int NOT NULL)');
    const [row] = await tx.query('SELECT version FROM crewvault_schema WHERE id = 1');
    const from = row === undefined ? 0 : int(row, 'version');
    if (from > latest) {
      throw new CrewvaultError('VAULT_NEWER', `This server database has schema ${from}, newer than this server knows (${latest}): run a newer Crewvault server.`);
    }
    for (const migration of migrations.slice(from)) await tx.exec(migration.sql);
    if (from === 0) await tx.query('INSERT INTO crewvault_schema (id, version) VALUES (1, $1)', [latest]);
    else if (from < latest) await tx.query('UPDATE crewvault_schema SET version = $1 WHERE id = 1', [latest]);
    return { from, to: latest };
  });
}

/** The schema version recorded in the database (0 when it is empty). */
export async function schemaVersion(db: Database): Promise<number> {
  const [table] = await db.query("SELECT to_regclass('crewvault_schema') IS NOT NULL AS present");
  if (table?.present !== true) return 0;
  const [row] = await db.query('SELECT version FROM crewvault_schema WHERE id = 1');
  return row === undefined ? 0 : int(row, 'version');
}
