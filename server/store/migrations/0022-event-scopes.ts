/**
 * Schema 22: audit events signed with the v3 text (#15, docs/SYNC.md "Events of groups one does not
 * hold"): beside each stored v3 event, the group its body names (`scope`: its global id, '' for
 * none; the header's scope tag is keyed with the group's key, which the server never holds) and its
 * body digest, so a pull or snapshot hands a member who does not hold that group the header, digest
 * and signature only, without parsing or hashing the body again. Null for every record before (v1 and v2 events are never redacted) and
 * for every record that is not a v3 event. Must never: hold a body of its own.
 */
export const migration0022 = {
  version: 22,
  name: 'event-scopes',
  sql: `
ALTER TABLE sync_records ADD COLUMN scope text;
ALTER TABLE sync_records ADD COLUMN body_digest text;
ALTER TABLE sync_records ADD CONSTRAINT sync_records_v3_event CHECK ((scope IS NULL) = (body_digest IS NULL) AND (scope IS NULL OR kind = 'event'));
`,
} as const;
