/**
 * Schema 20: the sign-in's two looks into the audit log answer from small indexes. The look for
 * the person's newest signed sign-in (the sign-in record check, store-audit.ts lastSignedSignIn)
 * walked this device's whole log through audit_log_by_device when no sign-in was near its end
 * (40 ms of a sign-in at 100,000 rows, measured by bench:ui's profile); a partial index of
 * sign-in rows by person answers it from a handful of rows. (The look for a recorded broken
 * anchor names its partial index, schema 15, in the query itself: the planner, with no
 * statistics, preferred the device index for its `device_id IS NULL OR device_id = ?`.)
 * Must never drop or change a row: indexes only.
 */
import type Database from 'better-sqlite3';

export function updateToSchemaVersion20(db: Database.Database): void {
  db.exec("CREATE INDEX audit_log_signins ON audit_log(actor_id, id) WHERE action = 'signin.ok';");
}
