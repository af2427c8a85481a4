/**
 * Schema 21: a device's events are one vault user's (#15, review round seven holes 1 and 2).
 * Schema 17 bound each device to the server account that first pushed its events, so an owner's
 * move (or any relay of events taken in by direct exchange) made a member's own device the
 * owner's, and a member could push another's signed events first and so take their device.
 * `sync_devices.vault_user`: the vault user whose key signed the device's first event (its signed
 * actor), filled here from each device's first stored event; `account_id` stays as the first
 * pusher, for the record only (no check reads it any more). Must never: hold a private key.
 */
export const migration0021 = {
  version: 21,
  name: 'device-users',
  sql: `
ALTER TABLE sync_devices ADD COLUMN vault_user text;
ALTER TABLE sync_devices ALTER COLUMN account_id DROP NOT NULL;
UPDATE sync_devices d SET vault_user = (
  SELECT f.body->>'actor' FROM sync_records f
  WHERE f.vault_id = d.vault_id AND f.kind = 'event' AND f.body->>'device' = d.device
  ORDER BY f.seq LIMIT 1
);
`,
} as const;
