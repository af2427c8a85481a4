/**
 * Schema 17: the server checks signatures (#15). `sync_signing_keys`: each vault user's signing
 * keys as their records came (public key, certifier, certificate), in the order stored (`n`), from
 * which the server works out which are in force by the desktops' own rule
 * (shared/sync/signing-keys.ts). `sync_devices`: which account first pushed events of each device
 * of a vault (only it pushes that device's events after) and the link the device's next event
 * must carry (SHA-256 of the last one's signature, base64url): one device's chain has one order.
 * Filled here from what vaults already hold: their certified keys, and each device's first pusher
 * and last event (by sequence). Must never: hold a private key.
 */
export const migration0017 = {
  version: 17,
  name: 'signers',
  sql: `
CREATE TABLE sync_signing_keys (
  vault_id text NOT NULL REFERENCES sync_vaults(vault_id),
  key_id text NOT NULL,
  n bigserial NOT NULL,
  vault_user text NOT NULL,
  public_key text NOT NULL,
  certified_by text,
  certificate text,
  PRIMARY KEY (vault_id, key_id)
);
CREATE INDEX sync_signing_keys_order ON sync_signing_keys (vault_id, n);
CREATE TABLE sync_devices (
  vault_id text NOT NULL REFERENCES sync_vaults(vault_id),
  device text NOT NULL,
  account_id text NOT NULL REFERENCES users(id),
  head text NOT NULL,
  PRIMARY KEY (vault_id, device)
);
INSERT INTO sync_signing_keys (vault_id, key_id, vault_user, public_key, certified_by, certificate)
  SELECT vault_id, record_id, body->>'user', body->>'publicKey', body->>'certifiedBy', body->>'certificate'
  FROM sync_records WHERE kind = 'signing_key' ORDER BY vault_id, seq;
INSERT INTO sync_devices (vault_id, device, account_id, head)
  SELECT DISTINCT ON (e.vault_id, e.body->>'device') e.vault_id, e.body->>'device',
    (SELECT f.pushed_by FROM sync_records f WHERE f.vault_id = e.vault_id AND f.kind = 'event' AND f.body->>'device' = e.body->>'device' ORDER BY f.seq LIMIT 1),
    rtrim(translate(encode(sha256(decode(
      rpad(translate(e.body->>'signature', '-_', '+/'), ((length(e.body->>'signature') + 3) / 4) * 4, '='), 'base64')), 'base64'), '+/', '-_'), '=')
  FROM sync_records e
  WHERE e.kind = 'event' AND e.body->>'device' IS NOT NULL AND e.body->>'signature' IS NOT NULL
  ORDER BY e.vault_id, e.body->>'device', e.seq DESC;
`,
} as const;
