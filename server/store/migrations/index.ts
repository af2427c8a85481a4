/**
 * The server's schema upgrades, in order. A new one is a new file `NNNN-name.ts` exporting
 * `{ version, name, sql }`, appended here; versions only go up by one (checked in migrate.ts
 * and by test/server/migrations.test.ts). A released migration is never edited.
 */
import { migration0001 } from './0001-accounts';
import { migration0002 } from './0002-sign-in-throttle';
import { migration0003 } from './0003-sealed-keys';
import { migration0004 } from './0004-server-audit';
import { migration0005 } from './0005-mfa';
import { migration0006 } from './0006-recovery-codes';
import { migration0007 } from './0007-emergency-codes';
import { migration0008 } from './0008-sent-codes';
import { migration0009 } from './0009-devices';
import { migration0010 } from './0010-device-tokens';
import { migration0011 } from './0011-sync';
import { migration0012 } from './0012-automation-tokens';
import { migration0013 } from './0013-admin-grants';
import { migration0014 } from './0014-membership';
import { migration0015 } from './0015-server-codes';
import { migration0016 } from './0016-server-codes-groups';
import { migration0017 } from './0017-signers';
import { migration0018 } from './0018-account-public-keys';
import { migration0019 } from './0019-code-key-ids';
import { migration0020 } from './0020-record-batches';
import { migration0021 } from './0021-device-users';
import { migration0022 } from './0022-event-scopes';
import { migration0023 } from './0023-vault-objects';
import { migration0024 } from './0024-snapshot-page-indexes';
import { migration0025 } from './0025-left-reach';
import { migration0026 } from './0026-history-marks';
import { migration0027 } from './0027-left-reach-records';
import { migration0028 } from './0028-stray-code-seals';
import { migration0029 } from './0029-entries-by-group';
import { migration0030 } from './0030-secret-key-held';
import { migration0031 } from './0031-entry-moves';
import { migration0032 } from './0032-rotation-claims';
import { migration0033 } from './0033-code-seal-digests';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [migration0001, migration0002, migration0003, migration0004, migration0005, migration0006, migration0007,
  migration0008, migration0009, migration0010, migration0011, migration0012, migration0013, migration0014, migration0015,
  migration0016, migration0017, migration0018, migration0019, migration0020, migration0021, migration0022, migration0023, migration0024, migration0025, migration0026,
  migration0027, migration0028, migration0029, migration0030, migration0031, migration0032, migration0033];
