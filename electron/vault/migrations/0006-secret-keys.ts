/**
 * Schema 6: each access group gets two keys per version — the list key (what the list shows)
 * and a secret key (password, notes, OTP key) wrapped only for members whose role needs
 * secrets — so an auditor with a copy of the file and their password opens no secret.
 * Existing groups keep their one key (`secret_split` 0) until an owner's next sign-in rotates
 * each of them into a split version (VaultSession.finishKeySplit); until then they work as before.
 *
 * `by_role` marks the keys someone holds only because their role holds every group (owners,
 * admins), so a demotion knows which to take away. Which of an existing owner's or admin's
 * keys were memberships of their own cannot be known: every one they do not lead is marked,
 * the safer guess (a demoted admin is granted again what they still need).
 */
import type Database from 'better-sqlite3';

export function updateToSchemaVersion6(db: Database.Database): void {
  db.exec(`
    ALTER TABLE access_groups ADD COLUMN secret_split INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE group_keys ADD COLUMN wrapped_secret_key BLOB;
    ALTER TABLE group_keys ADD COLUMN by_role INTEGER NOT NULL DEFAULT 0;
    UPDATE group_keys SET by_role = 1
      WHERE is_lead = 0 AND user_id IN (SELECT id FROM users WHERE role IN ('owner', 'admin'));
  `);
}
