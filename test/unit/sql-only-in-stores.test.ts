// SQL only in store files (issue #13, docs/STORE.md "Where SQL lives"): no statement is prepared,
// executed or run as a pragma or transaction outside the files allowed to hold SQL. Reads the
// source tree only; it must never run anything it finds.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

/** The desktop's code: the vault, its doors and what they share (server/ has its own store). */
const SCANNED = ['electron', 'shared', 'renderer'];

/**
 * Where SQL may be, as docs/STORE.md says: the store files, db.ts (opening, pragmas, the
 * transaction), store.ts (SqliteVaultStore's read transaction), migrations/ (schema upgrades),
 * schema-objects.ts (what the schema may hold, checked before anything runs) and backup.ts
 * (checks its own private copy of a file, never the open vault).
 */
const ALLOWED: ReadonlyArray<RegExp> = [
  /^electron\/vault\/store-[a-z-]+\.ts$/,
  /^electron\/vault\/store\.ts$/,
  /^electron\/vault\/db\.ts$/,
  /^electron\/vault\/migrations\/[^/]+\.ts$/,
  /^electron\/vault\/schema-objects\.ts$/,
  /^electron\/vault\/backup\.ts$/,
];

/** A better-sqlite3 call that runs SQL (a RegExp's .exec(text) takes no string literal). */
const SQL_CALL = /\.(?:prepare\s*[<(]|pragma\s*\(|transaction\s*\(|exec\s*\(\s*[`'"])/;

function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(ROOT, folder), { withFileTypes: true }).flatMap((item) => {
    const relative = `${folder}/${item.name}`;
    if (item.isDirectory()) return item.name === 'node_modules' ? [] : sourceFiles(relative);
    return /\.tsx?$/.test(item.name) ? [relative] : [];
  });
}

/** "file:line: text" for every SQL call outside the allowed files. */
function sqlOutsideStores(): string[] {
  return SCANNED.flatMap(sourceFiles)
    .filter((file) => !ALLOWED.some((allowed) => allowed.test(file)))
    .flatMap((file) => readFileSync(path.join(ROOT, file), 'utf8').split('\n')
      .flatMap((line, i) => (SQL_CALL.test(line) ? [`${file}:${i + 1}: ${line.trim().slice(0, 120)}`] : [])));
}

describe('SQL only in store files', () => {
  it('the pattern finds each kind of SQL call, and not a RegExp exec', () => {
    for (const line of ["db.prepare('SELECT 1')", 'db.prepare<[], { n: number }>(`SELECT 1`)', "db.pragma('user_version')", 'db.transaction(() => 1)', "db.exec('VACUUM')", 'db.exec(`CREATE TABLE t (a)`)']) {
      expect(SQL_CALL.test(line), line).toBe(true);
    }
    expect(SQL_CALL.test('const m = /^(\\d+)$/.exec(text);')).toBe(false);
  });

  it('no vault service, door or renderer file runs SQL of its own', () => {
    expect(sourceFiles('electron').length).toBeGreaterThan(50);
    expect(sqlOutsideStores()).toEqual([]);
  });
});
