// Runs @doyensec/electronegativity over the Electron and renderer sources and fails on any
// finding that SECURITY.md does not explain (a line "- `CHECK_ID` …" under "Electronegativity").
// The check that downloads Electron's release list is excluded: it needs the internet, and
// Electron's version is pinned in package-lock.json and reviewed on upgrade instead.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const scan = mkdtempSync(path.join(tmpdir(), 'crewvault-electronegativity-'));
try {
  for (const part of ['electron', 'renderer', 'package.json']) cpSync(path.join(root, part), path.join(scan, part), { recursive: true });
  const report = path.join(scan, 'report.csv');
  const electronVersion = JSON.parse(readFileSync(path.join(root, 'node_modules/electron/package.json'), 'utf8')).version;
  try {
    execFileSync(process.execPath, [
      path.join(root, 'node_modules/@doyensec/electronegativity/dist/index.js'),
      '-i', scan, '-e', electronVersion, '-x', 'AvailableSecurityFixesGlobalCheck', '-r', '-v', 'false', '-o', report,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch {
    // The tool exits non-zero when it has findings; the report decides.
  }
  const rows = readFileSync(report, 'utf8').trim().split('\n').slice(1).filter(Boolean);
  const findings = rows.map((row) => {
    const [id, severity, , file, location] = row.split(',');
    return { id, severity: severity.replaceAll('"', ''), where: `${file.replaceAll('"', '')}:${location.replaceAll('"', '')}` };
  });
  const explained = new Set([...readFileSync(path.join(root, 'SECURITY.md'), 'utf8').matchAll(/^- `([A-Z_]+)`/gm)].map((m) => m[1]));
  const unexplained = findings.filter((f) => f.id !== 'ELECTRON_VERSION_JSON_CHECK' && !explained.has(f.id));
  for (const f of findings) console.log(`electronegativity: ${f.id} (${f.severity}) at ${f.where}${explained.has(f.id) ? ' — explained in SECURITY.md' : ''}`);
  if (unexplained.length > 0) {
    console.error(`electronegativity: ${unexplained.length} finding(s) not explained in SECURITY.md`);
    process.exit(1);
  }
} finally {
  rmSync(scan, { recursive: true, force: true });
}
