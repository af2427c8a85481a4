/**
 * The triggers a vault may hold: only those Crewvault's own migrations make. A trigger or view
 * put into the file by someone who can write it would run inside every honest writer's
 * transactions (review of schemas 10-12), so a vault holding any other is refused before
 * anything, migrations included, writes to it. Each is known by the SHA-256 of its name and
 * SQL; test/integration/schema-objects.test.ts derives the list from the migrations and fails
 * when a migration adds one that is not here.
 * Must never run a statement on a file before this check has passed.
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { CrewvaultError } from '../../shared/errors';

export function schemaObjectHash(name: string, sql: string): string {
  return createHash('sha256').update(`${name}\n${sql}`, 'utf8').digest('hex');
}

/** Every trigger any migration has made, at any schema version: [hash of its name and SQL, name]. */
const TRIGGERS: ReadonlyArray<readonly [string, string]> = [
  ['dd882ee48e4b2da2c0522c7f5fc44af1d0465bfc4ac425c01640d29f182dbe15', 'access_groups_inserted'],
  ['422a4e60373092e53963b052959421d359d1cf52faa3c828a08dd9f684427349', 'access_groups_uid_fixed'],
  ['0c9f39dc87c8496c075c5a29cf8d0e2bb747979be4f65e7d5af2846d8b91aec5', 'access_groups_uid_required'],
  ['5d3b00d16e809a671c8cc82527343a58994eb607c14557923f13dd0aded4cd14', 'access_groups_written'],
  // Schema 18: a group's deletion moves its revision too.
  ['2b48ed3139fa22676ddadd8c227d74021d6df098f967b93913e892e579a48034', 'access_groups_written'],
  ['515332af41907b3e9fbdf91a65fd3959b2b3fad477f2fb1267f78b8c5d2883f6', 'audit_log_inserted'],
  ['5d489a1bed2453d4a513e4444c03b7e34a50ae568eb359422e9929303bcece74', 'audit_log_uid_fixed'],
  ['7cd0bf8d469eec8b949f270ec0aad70726ad6cc9736000aee98cbbe8e747706f', 'audit_log_uid_required'],
  ['4fdef4ace6b5bd074e1ded74fe8c7cc815bd350cb3f105ca6612b892e4337c83', 'customers_inserted'],
  ['d131eb7479e5e398032bb3731fa5b3fce0c520c5f9a1bd422acc7fb808127367', 'customers_uid_fixed'],
  ['12b7548fdd85ca9e0ee89ebb519764c0a37574ad24d7643181c66ee07b53e223', 'customers_uid_required'],
  ['f389583d229e163ebd441734f5f262240e9b0d8545e3faf872cb23ccce70a3ba', 'customers_written'],
  ['64f07f5fe203263881f5c2b792191a40f508461b7ac071f48edb32afc2e4681b', 'directory_keys_inserted'],
  ['7fca0e83c25b8aa06a8c3ac4f1a128e0fede7fd51d702a5241c2bf1e13fe7e21', 'directory_keys_written'],
  ['a7c3499cedf0dcfe78445b112b011868b916426b2ea5b0c6ff387cbc201a0934', 'entries_inserted'],
  ['c815feaa45be98a334871441c079db62cc85bbc237e1aaf19908ca21bb09ea17', 'entries_uid_fixed'],
  ['ba23ed7270e16760e2502e221b96753bac07faefdf1456a408d2d801e9224bb5', 'entries_uid_required'],
  ['cdebf15a3251798b29fee19c035af8a2aa4dc09782d03938cd018c8a40c0f2e7', 'entries_written'],
  ['ac38c918a9ec2977745f4634b5faa9a31a114caaeb843df7ceb6cc75648fe0b5', 'group_keys_inserted'],
  ['8268632ab4d1a3cae5744993587cfcbec65d8bb18450515c37f4811adff3b409', 'group_keys_written'],
  ['07ca69f50268d4959e283393ab3ce859b08433d1b72f1a12d40c083053bf684d', 'roles_inserted'],
  ['b9e4adc1123e48b042ba7df356ceb82f96986e3654643372e4ccfa1382923564', 'roles_uid_fixed'],
  ['b2ecb3a93447fd92c4ae6c1905c582f785d879b872337ca20a99159e42dde9ef', 'roles_uid_required'],
  ['0e53acfdae90c20d3ee50be783ea01599bf3336c37a2bf0952530c4533db05fd', 'roles_written'],
  ['2bc2bdb252b832f260a951ef756051b95d963d64c72ce7cbf51217b91fc73bd4', 'signing_keys_fixed'],
  ['46c8769305a282f1254c4b69260673c99f1cb05c07061f77dc177ba4b1f5c8a4', 'signing_keys_inserted'],
  ['e788b5d684d9d114dba9e25e2d6e0cbf680350e4b003ea7794dc21a0dbd009c7', 'users_inserted'],
  ['e6d3cef241c32e67256d0986987e1db2559bef4d428514609b0a7fef91698bd2', 'users_uid_fixed'],
  ['871af4ea5abd4c0aff6dcbca3393ffedd28cf4a51b4c9f747ceb1f51455e552a', 'users_uid_required'],
  ['4470b4a0c71ac26eac05a8b10395c5bf871443f9a1c51560f0d61d8d55d8b5df', 'users_written'],
  ['48b4ea8a7026c56c6ccb9900df475640ca43b327e8010a27b83057a5b6ef9923', 'users_written'],
];

export const KNOWN_TRIGGERS: ReadonlySet<string> = new Set(TRIGGERS.map(([hash]) => hash));
/** The names a vault at the latest schema has, every one (a dropped trigger is refused too). */
const LATEST_TRIGGER_NAMES: ReadonlySet<string> = new Set(TRIGGERS.map(([, name]) => name));

/**
 * VAULT_TAMPERED unless every trigger in `db` is one of Crewvault's and it has no view; with
 * `complete` (a vault at the latest schema), unless it also has every trigger that schema has.
 */
export function checkSchemaObjects(db: Database.Database, complete = false): void {
  // Every row, whatever its type says: SQLite runs a row's SQL as written, and a type of
  // 'TRIGGER' loads a trigger all the same (re-review: a type filter let one through).
  const rows = db.prepare<[], { type: string; name: string; sql: string | null }>('SELECT type, name, sql FROM sqlite_master').all();
  const refuse = (what: string, name: string): never => {
    throw new CrewvaultError('VAULT_TAMPERED', `The vault holds ${what} Crewvault did not make ("${name.slice(0, 64)}"): the file was altered. It was not opened.`);
  };
  const triggers: string[] = [];
  for (const row of rows) {
    const sql = row.sql ?? '';
    const executable = /^\s*CREATE\s+(?:TEMP\s+|TEMPORARY\s+)?(?:TRIGGER|VIEW)\b/i.test(sql);
    if (row.type === 'trigger' && KNOWN_TRIGGERS.has(schemaObjectHash(row.name, sql))) {
      triggers.push(row.name);
      continue;
    }
    if (executable || (row.type !== 'table' && row.type !== 'index')) refuse(`a ${row.type.toLowerCase() || 'schema object'}`, row.name);
  }
  const names = new Set(triggers);
  const missing = complete ? [...LATEST_TRIGGER_NAMES].find((name) => !names.has(name)) : undefined;
  if (missing) throw new CrewvaultError('VAULT_TAMPERED', `The vault lacks its trigger "${missing}": the file was altered. It was not opened.`);
}
