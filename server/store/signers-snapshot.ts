/**
 * The text of a push verification's snapshot (store/signers.ts): what the vault's lock must still
 * find of what verifying a push read. Apart from signers.ts so store/records-in-line.ts can check
 * many pushes' snapshots in one statement (checkSnapshots) without the two files importing each other.
 */
import { rowsByKeys } from './by-keys';

/**
 * The snapshot, in one expression: the newest key's place, the owners (whose certificates count),
 * who is disabled (whose events are refused) and the named devices' accounts and heads. `vault`
 * is the vault's parameter, `devices` an expression of the devices (a text[]).
 */
export function snapshotSql(vault: string, devices: string): string {
  return `concat_ws('|',
       (SELECT coalesce(max(n), 0)::text FROM sync_signing_keys WHERE vault_id = ${vault}),
       (SELECT string_agg(vault_user || ':' || disabled::text, ',' ORDER BY vault_user) FROM sync_people WHERE vault_id = ${vault} AND role = 'owner'),
       (SELECT string_agg(vault_user, ',' ORDER BY vault_user) FROM sync_people WHERE vault_id = ${vault} AND disabled),
       (SELECT string_agg(d.device || ':' || coalesce(d.vault_user, '') || ':' || d.head, ',' ORDER BY d.device)
        FROM ${rowsByKeys({ table: 'sync_devices', key: 'device', columns: 'device, vault_user, head', vault, keys: devices, as: 'd' })})
     )`;
}
