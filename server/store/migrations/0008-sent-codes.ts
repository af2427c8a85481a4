/**
 * Schema 8: codes the server sends (by e-mail or text message) and what it sends them with.
 * A person's e-mail address and phone number; for each sign-in (session) and channel at most
 * one live code, kept as an HMAC under a key from the server's key file and gone when used
 * or when its session ends; and the SMTP and SMS provider settings, whose password or API
 * key is sealed under the server's secrets key (server/keys.ts): a dump of the database alone
 * opens neither a code nor a credential.
 */
export const migration0008 = {
  version: 8,
  name: 'sent-codes',
  sql: `
CREATE TABLE user_contacts (
  user_id text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  email text,
  phone text
);

CREATE TABLE mfa_sent_codes (
  session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  channel text NOT NULL CHECK (channel IN ('email', 'sms')),
  code_hash text NOT NULL,
  expires_at bigint NOT NULL,
  -- Codes sent in this sign-in on this channel: a limit stops one attempt flooding a mailbox.
  sends int NOT NULL,
  PRIMARY KEY (session_id, channel)
);

-- settings: JSON without the secret; sealed_secret: the password or API key, sealed.
CREATE TABLE delivery_settings (
  channel text PRIMARY KEY CHECK (channel IN ('smtp', 'sms')),
  settings text NOT NULL,
  sealed_secret text,
  updated_at bigint NOT NULL
);
`,
} as const;
