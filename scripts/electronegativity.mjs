// Runs @doyensec/electronegativity over the Electron and renderer sources and fails on any
// finding that SECURITY.md does not explain (a line "- `CHECK_ID` …" under "Electronegativity").
// The check that downloads Electron's release list is excluded: it needs the internet, and
// Electron's version is pinned in package-lock.json and reviewed on upgrade instead.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '..');
const scan = mkdtempSync(path.join(tmpdir(), 'crewvault-electronegativity-'));
try {
  for (const part of ['electron', 'renderer', 'package.json']) cpSync(path.join(root, part), path.join(scan, part), { recursive: true });
  // SARIF, not CSV: the tool writes its CSV header and rows in two unordered async writes,
  // which now and then garbles the file; the SARIF report is one write.
  const report = path.join(scan, 'report.sarif');
  const electronVersion = JSON.parse(readFileSync(path.join(root, 'node_modules/electron/package.json'), 'utf8')).version;
  try {
    execFileSync(process.execPath, [
      '--import', pathToFileURL(path.join(root, 'scripts/electronegativity-offline.mjs')).href,
      path.join(root, 'node_modules/@doyensec/electronegativity/dist/index.js'),
      '-i', scan, '-e', electronVersion, '-x', 'AvailableSecurityFixesGlobalCheck', '-r', '-v', 'false', '-o', report,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch {
    // The tool exits non-zero when it has findings; the report decides.
  }
  let sarif;
  try {
    sarif = JSON.parse(readFileSync(report, 'utf8'));
  } catch {
    console.error('electronegativity: the tool wrote no report (it stopped before the end of its scan)');
    process.exit(1);
  }
  const findings = (sarif.runs?.[0]?.results ?? []).map((r) => {
    const where = r.locations?.[0]?.physicalLocation;
    return { id: r.ruleId, severity: r.level, where: `${where?.artifactLocation?.uri ?? 'N/A'}:${where?.region?.startLine ?? 0}` };
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
