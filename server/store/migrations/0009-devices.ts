/**
 * Schema 9: a person's devices (the device id their sessions carry): when an e-mailed code
 * authorised one (a device never authorised gets a code once before anything is released,
 * server/auth/devices.ts), and until when it skips the second step ("trust this device").
 * Removing the row ends the device's standing; its sessions are ended beside it.
 */
export const migration0009 = {
  version: 9,
  name: 'devices',
  sql: `
CREATE TABLE devices (
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  device_id text NOT NULL,
  name text,
  authorised_at bigint,
  trusted_until bigint,
  PRIMARY KEY (user_id, device_id)
);
`,
} as const;
