/**
 * Schema 26: marks of the vault's history (review 13b hole 1; docs/SYNC.md "Faults", a server
 * restored from a backup). Each push transaction that moves a vault's sequence writes one row at
 * the sequence it ends on, with a random value; a desktop keeps the mark of the transaction its
 * cursor falls in and names it at its next pull. A restore (or another vault's tables put in
 * place) loses or replaces the rows written after the copy was taken, so the mark a desktop holds
 * is then missing or different, and its pull is answered HISTORY_CHANGED instead of "caught up".
 * Every vault held before this schema is given one mark at its sequence now.
 * Must never: hold anything of a record (a mark is random, not derived from what was stored).
 */
export const migration0026 = {
  version: 26,
  name: 'history-marks',
  sql: `
CREATE TABLE sync_history_marks (
  vault_id text NOT NULL REFERENCES sync_vaults(vault_id),
  seq bigint NOT NULL,
  mark text NOT NULL,
  PRIMARY KEY (vault_id, seq)
);
INSERT INTO sync_history_marks (vault_id, seq, mark)
  SELECT vault_id, seq, 'm' || md5(random()::text || clock_timestamp()::text || vault_id) FROM sync_vaults;
`,
} as const;
