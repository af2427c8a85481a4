// Reading a closed vault file from outside, as a test checks what a desktop wrote: one row of a
// query over a read-only handle, and the file's audit chain walked without a key (what `crewvault
// audit verify` checks). Test support only; must never write to the file or print a key.
import Database from 'better-sqlite3';
import type { Clock } from '../../electron/vault/service';
import { Vault } from '../../electron/vault/vault';

/** One row of `sql` over `file`, read-only. */
export function readOneRow<T>(file: string, sql: string, ...args: unknown[]): T | undefined {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<unknown[], T>(sql).get(...args);
  } finally {
    db.close();
  }
}

/** The file's audit chain walked without a key (what `crewvault audit verify` checks). */
export async function auditChainOf(file: string, clock: Clock): Promise<Awaited<ReturnType<Vault['verifyAudit']>>> {
  const vault = Vault.open(file, clock);
  try {
    return await vault.verifyAudit();
  } finally {
    await vault.close();
  }
}
