// Every store-*.ts function that UPDATEs, REPLACEs or DELETEs a sealed or wrapped column notes it
// (db.ts noteSealedReplaced), so the store checkpoints the old bytes out of the files (review round
// eleven hole 4: a password change and an MFA disable did not). The columns come from the schema
// of a real new vault file (every BLOB column named sealed/wrapped/secret); a new statement that
// touches one without a note fails here. Must never print file contents beyond a function's name.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteVaultStore } from '../../electron/vault/store';
import { tempFolder } from '../support/vault';

const STORE_DIR = join(__dirname, '../../electron/vault');

/** Writes to protected columns that need no note, each with why (the old bytes are still current). */
const EXEMPT: Record<string, string> = {
  'store-audit.ts:appendAudit': 'fills in the sealed detail of the row inserted in the same write (it was NULL)',
  'store-pages.ts:putPage': 'a local cache page rewritten by an add (the old page is a subset) or in a write whose entry change notes',
};

async function protectedColumns(): Promise<Map<string, Set<string>>> {
  const dir = tempFolder();
  const store = SqliteVaultStore.create(join(dir, 'schema.crewvault'));
  const tables = new Map<string, Set<string>>();
  await store.read((r) => {
    const names = r.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    for (const { name } of names) {
      const cols = r.prepare<[], { name: string; type: string }>(`PRAGMA table_info(${name})`).all();
      const hit = cols.filter((c) => c.type.toUpperCase() === 'BLOB' && /sealed|wrapped|secret/.test(c.name)).map((c) => c.name);
      if (hit.length > 0) tables.set(name, new Set(hit));
    }
  });
  await store.close();
  return tables;
}

/** Top-level functions of a file: name and text. */
function functionsOf(source: string): Array<{ name: string; body: string }> {
  const starts = [...source.matchAll(/^(?:export )?function (\w+)/gm)];
  return starts.map((m, i) => ({ name: m[1] ?? '', body: source.slice(m.index, starts[i + 1]?.index ?? source.length) }));
}

function touches(body: string, tables: Map<string, Set<string>>): string[] {
  const found: string[] = [];
  const named = (list: string, cols: Set<string>): boolean => [...cols].some((c) => new RegExp(`\\b${c}\\b`).test(list));
  for (const m of body.matchAll(/UPDATE\s+(\w+)\s+SET\s+([\s\S]*?)(?:WHERE|['`"])/g)) {
    const cols = tables.get(m[1] ?? '');
    if (cols && named(m[2] ?? '', cols)) found.push(`UPDATE ${m[1]}`);
  }
  for (const m of body.matchAll(/INSERT\s+INTO\s+(\w+)[\s\S]*?DO UPDATE SET\s+([\s\S]*?)(?:WHERE|['`"])/g)) {
    const cols = tables.get(m[1] ?? '');
    if (cols && named(m[2] ?? '', cols)) found.push(`upsert ${m[1]}`);
  }
  for (const m of body.matchAll(/(?:INSERT OR REPLACE INTO|DELETE FROM)\s+(\w+)/g)) {
    if (tables.has(m[1] ?? '')) found.push(`${m[0].split(/\s+/)[0]} ${m[1]}`);
  }
  return found;
}

describe('every write that replaces a sealed or wrapped column notes it', () => {
  it('store-*.ts: no UPDATE/REPLACE/DELETE of a sealed or wrapped column without noteSealedReplaced in its function', async () => {
    const tables = await protectedColumns();
    // The schema as the scan reads it (a guard against a scan that finds nothing).
    expect(tables.get('users')).toEqual(new Set(['sealed_private_key', 'mfa_sealed_secret', 'mfa_pending_secret', 'wrapped_signing_key', 'sealed_key_pins']));
    expect([...tables.keys()]).toEqual(expect.arrayContaining(['entries', 'customers', 'access_groups', 'group_keys', 'directory_keys', 'directory_history', 'mfa_key_wraps']));
    const missing: string[] = [];
    const exemptSeen = new Set<string>();
    let scanned = 0;
    for (const file of readdirSync(STORE_DIR).filter((f) => /^store-.*\.ts$/.test(f))) {
      for (const fn of functionsOf(readFileSync(join(STORE_DIR, file), 'utf8'))) {
        const writes = touches(fn.body, tables);
        if (writes.length === 0) continue;
        scanned += 1;
        const key = `${file}:${fn.name}`;
        if (EXEMPT[key] !== undefined) { exemptSeen.add(key); continue; }
        if (!fn.body.includes('noteSealedReplaced(db)')) missing.push(`${key} (${writes.join(', ')})`);
      }
    }
    expect(missing).toEqual([]);
    expect([...exemptSeen].sort(), 'an exemption names a function that no longer writes a protected column').toEqual(Object.keys(EXEMPT).sort());
    expect(scanned).toBeGreaterThan(20);
  });
});
