/**
 * Schema migrations: one file per version, each `updateToSchemaVersionN(db)`, listed here in
 * order. All pending ones run in one transaction, then `PRAGMA user_version` records the
 * version. A vault newer than this app is refused (VAULT_NEWER), never "migrated" backwards.
 */
import type Database from 'better-sqlite3';
import { CrewvaultError } from '../../../shared/errors';
import { updateToSchemaVersion1 } from './0001-initial';
import { updateToSchemaVersion2 } from './0002-entry-pages';
import { updateToSchemaVersion3 } from './0003-roles-and-first-sign-in';
import { updateToSchemaVersion4 } from './0004-sign-in-mfa';
import { updateToSchemaVersion5 } from './0005-enrolment-and-last-sign-in';
import { updateToSchemaVersion6 } from './0006-secret-keys';
import { updateToSchemaVersion7 } from './0007-unknown-name-attempts';
import { updateToSchemaVersion8 } from './0008-directory-versions';
import { updateToSchemaVersion9 } from './0009-mfa-key-escrow';
import { updateToSchemaVersion10 } from './0010-global-ids-and-revisions';
import { updateToSchemaVersion11 } from './0011-signed-audit-events';
import { updateToSchemaVersion12 } from './0012-local-sign-in-state';
import { updateToSchemaVersion13 } from './0013-signing-key-pins';
import { updateToSchemaVersion14 } from './0014-public-key-bindings';
import { updateToSchemaVersion15 } from './0015-live-entry-indexes';
import { updateToSchemaVersion16 } from './0016-replica-base';
import { updateToSchemaVersion17 } from './0017-unseen-recovery-codes';
import { updateToSchemaVersion18 } from './0018-group-tombstones';
import { updateToSchemaVersion19 } from './0019-group-server-codes';
import { updateToSchemaVersion20 } from './0020-sign-in-indexes';
import { updateToSchemaVersion21 } from './0021-redactable-audit-events';

export interface Migration {
  readonly version: number;
  readonly run: (db: Database.Database) => void;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, run: updateToSchemaVersion1 },
  { version: 2, run: updateToSchemaVersion2 },
  { version: 3, run: updateToSchemaVersion3 },
  { version: 4, run: updateToSchemaVersion4 },
  { version: 5, run: updateToSchemaVersion5 },
  { version: 6, run: updateToSchemaVersion6 },
  { version: 7, run: updateToSchemaVersion7 },
  { version: 8, run: updateToSchemaVersion8 },
  { version: 9, run: updateToSchemaVersion9 },
  { version: 10, run: updateToSchemaVersion10 },
  { version: 11, run: updateToSchemaVersion11 },
  { version: 12, run: updateToSchemaVersion12 },
  { version: 13, run: updateToSchemaVersion13 },
  { version: 14, run: updateToSchemaVersion14 },
  { version: 15, run: updateToSchemaVersion15 },
  { version: 16, run: updateToSchemaVersion16 },
  { version: 17, run: updateToSchemaVersion17 },
  { version: 18, run: updateToSchemaVersion18 },
  { version: 19, run: updateToSchemaVersion19 },
  { version: 20, run: updateToSchemaVersion20 },
  { version: 21, run: updateToSchemaVersion21 },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.reduce((latest, m) => {
  if (m.version !== latest + 1) throw new Error(`migrations must go up by one: ${m.version} after ${latest}`);
  return m.version;
}, 0);

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Brings `db` to LATEST_SCHEMA_VERSION (or `target`, for tests of one migration). */
export function migrate(db: Database.Database, target = LATEST_SCHEMA_VERSION): void {
  const current = schemaVersion(db);
  if (current > LATEST_SCHEMA_VERSION) {
    throw new CrewvaultError('VAULT_NEWER', `This vault was written by a newer Crewvault (schema ${current}; this one knows up to ${LATEST_SCHEMA_VERSION}). Update Crewvault to open it.`);
  }
  if (!Number.isInteger(target) || target > LATEST_SCHEMA_VERSION) throw new Error(`no migration to schema ${target}`);
  const pending = MIGRATIONS.filter((m) => m.version > current && m.version <= target);
  if (pending.length === 0) return;
  db.transaction(() => {
    for (const m of pending) m.run(db);
    db.pragma(`user_version = ${target}`);
  }).immediate();
}
