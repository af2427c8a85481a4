/**
 * The vault bench (issue 3, DESIGN "Performance budget"): vaults of 1,000 / 10,000 / 100,000
 * realistic entries built through the service in a temp folder (nothing cached between runs,
 * everything removed at the end), then, per size:
 * - in process, Argon2 excluded: build time, open + sign-in, unlock → whole entry list,
 *   exact lookup (resolvePath + otpCode) and the service's search (listEntries({search}))
 *   p50/p95;
 * - `crewvault otp` as a whole process: wall time and peak RSS (GNU time);
 * - beside it `keepassxc-cli show -t` on the same entries, with the ratios.
 *
 * "Argon2 excluded" means the vault's owner was created with the cheapest KDF the vault
 * accepts (Argon2id m=1 MiB, t=1, p=1; its cost is measured and printed) — nothing is
 * subtracted. The KeePassXC comparison uses a second vault with DESIGN's default Argon2id
 * (m=64 MiB, t=3, p=1), against KeePassXC databases with the same Argon2id parameters and
 * with keepassxc-cli's own AES-KDF at the same decryption time (see keepass.ts).
 * Prints tables, never pass/fail. CREWVAULT_BENCH_SIZES=1000,10000 picks other sizes.
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOtpUri, totpCode, type OtpParams } from '../../shared/otp';
import type { EntryInput } from '../../shared/model';
import { DEFAULT_KDF, deriveKek, MIN_KDF, newKdfParams } from '../../electron/vault/crypto';
import { createVault, Vault, type KdfOptions } from '../../electron/vault/vault';
import { benchEntries, searchQueries, seededRng, type BenchEntry } from './dataset';
import { describeKdbx, exportXml, importXml, keepassXml, keepassxcVersion, KEEPASSXC_CLI, writeKdbx4 } from './keepass';
import { formatMiB, formatMs, fsyncProbe, hasGnuTime, median, nowMs, measureInTurns, percentile, runMeasured, Spawner, type Contender, type ProcessRun, type RepeatedRuns } from './measure';
import { printTable, type Row } from './table';

const DEFAULT_SIZES = [1_000, 10_000, 100_000];
const OWNER = 'bench-owner';
const PASSWORD = 'correct horse battery staple';
const BATCH = 5_000;
const LOOKUP_SAMPLES = 50;
const CLI_ROUNDS = 7;
const PEER_ROUNDS = 5;
/** keepassxc-cli takes ~7 s per run at 100,000 entries: fewer rounds there keep the bench short. */
const PEER_ROUNDS_LARGE = 3;
const CHEAP_KDF: KdfOptions = { ...MIN_KDF };
const DESIGN_KDF: KdfOptions = { ...DEFAULT_KDF };
const DESIGN_ARGON2 = { memoryKiB: DEFAULT_KDF.memory, iterations: DEFAULT_KDF.iterations, parallelism: DEFAULT_KDF.parallelism };

function progress(text: string): void {
  process.stderr.write(`  [vault bench] ${text}\n`);
}

function sizes(): number[] {
  const raw = process.env.CREWVAULT_BENCH_SIZES;
  if (!raw) return DEFAULT_SIZES;
  const parsed = raw.split(',').map((s) => Number(s.trim())).filter((n) => Number.isSafeInteger(n) && n > 0);
  return parsed.length > 0 ? parsed : DEFAULT_SIZES;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function kdfText(kdf: KdfOptions): string {
  const memory = kdf.memory ?? DEFAULT_KDF.memory;
  return `Argon2id m=${memory >= 1024 ? `${memory / 1024} MiB` : `${memory} KiB`} t=${kdf.iterations ?? DEFAULT_KDF.iterations} p=${kdf.parallelism ?? DEFAULT_KDF.parallelism}`;
}

function toInput(e: BenchEntry): EntryInput {
  const otp = e.otpUri ? parseOtpUri(e.otpUri) : null;
  return {
    customer: e.customer,
    title: e.title,
    username: e.username,
    password: e.password,
    url: e.url,
    notes: e.notes,
    otp: otp ? { params: otp.params, ...(otp.issuer ? { issuer: otp.issuer } : {}) } : null,
  };
}

/** Builds a vault through the service (createEntries in batches of 5,000); returns ms. */
async function buildVault(file: string, entries: readonly BenchEntry[], kdf: KdfOptions): Promise<number> {
  const start = nowMs();
  const session = await createVault(file, { owner: OWNER, password: PASSWORD, kdf });
  for (let i = 0; i < entries.length; i += BATCH) await session.createEntries(entries.slice(i, i + BATCH).map(toInput));
  await session.close();
  return nowMs() - start;
}

/** The KDF the vault file records for its owner (read back, not assumed). */
async function storedKdf(file: string): Promise<string> {
  const vault = Vault.open(file);
  try {
    const row = await vault.store.read((r) => r.prepare<[], { kdf: string }>('SELECT kdf FROM users ORDER BY id LIMIT 1').get());
    const kdf = JSON.parse(row?.kdf ?? '{}') as KdfOptions;
    return kdfText(kdf);
  } finally {
    await vault.close();
  }
}

async function argon2Ms(kdf: KdfOptions, rounds: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < rounds + 1; i++) {
    const params = newKdfParams(kdf);
    const start = nowMs();
    (await deriveKek(PASSWORD, params)).fill(0);
    if (i > 0) times.push(nowMs() - start); // the first call loads and warms the library
  }
  return median(times);
}

interface InProcess {
  readonly openSignInMs: number;
  readonly unlockListMs: number;
  readonly resolveMs: readonly number[];
  readonly lookupMs: readonly number[];
  readonly searchMs: readonly number[];
  readonly searchHits: number;
}

async function inProcess(file: string, entries: readonly BenchEntry[]): Promise<InProcess> {
  // Unlock: open the file and sign in; then the whole entry list (what the UI shows first).
  const rounds = entries.length >= 100_000 ? 3 : 5;
  const openSignIn: number[] = [];
  const unlockList: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = nowMs();
    const vault = Vault.open(file);
    const session = await vault.signIn(undefined, PASSWORD);
    openSignIn.push(nowMs() - start);
    await session.listEntries();
    unlockList.push(nowMs() - start);
    session.lock();
    await vault.close();
  }

  const vault = Vault.open(file);
  const session = await vault.signIn(undefined, PASSWORD);
  try {
    // Exact lookup: resolvePath (keyed index) + otpCode (opens one row, audits, commits).
    const rng = seededRng(0x100c);
    const withOtp = entries.filter((e) => e.otpUri);
    const resolveMs: number[] = [];
    const lookupMs: number[] = [];
    for (let i = 0; i < LOOKUP_SAMPLES + 1; i++) {
      const e = rng.pick(withOtp);
      const start = nowMs();
      const found = await session.resolvePath(`${e.customer}/${e.title}`);
      const resolved = nowMs();
      await session.otpCode(found.id);
      const done = nowMs();
      if (i === 0) continue; // warm-up
      resolveMs.push(resolved - start);
      lookupMs.push(done - start);
    }

    // Search as you type: each query over the whole vault, as listEntries({search}) runs it.
    const searchMs: number[] = [];
    let searchHits = 0;
    await session.listEntries({ search: 'warm-up' });
    for (const query of searchQueries(entries)) {
      const start = nowMs();
      searchHits += (await session.listEntries({ search: query })).length;
      searchMs.push(nowMs() - start);
    }
    return { openSignInMs: median(openSignIn), unlockListMs: median(unlockList), resolveMs, lookupMs, searchMs, searchHits };
  } finally {
    session.lock();
    await vault.close();
  }
}

/** The entry both tools look up: a TOTP entry about 61 % into the vault. */
function lookupTarget(entries: readonly BenchEntry[]): { path: string; params: OtpParams } {
  const start = Math.floor(entries.length * 0.61);
  for (let k = 0; k < entries.length; k++) {
    const e = entries[(start + k) % entries.length];
    if (e?.otpUri) return { path: `${e.customer}/${e.title}`, params: parseOtpUri(e.otpUri).params };
  }
  throw new Error('no TOTP entry to look up');
}

/** null when the run printed the entry's current code (at its start or end), else why not. */
function codeCheck(params: OtpParams, tool: string): (run: ProcessRun) => string | null {
  return (run) => {
    if (run.status !== 0) return `${tool} exit ${run.status}: ${run.stderr.trim().split('\n').pop() ?? ''}`;
    const printed = run.stdout.trim();
    const expected = new Set([totpCode(params, run.startedAt).code, totpCode(params, run.endedAt).code]);
    return expected.has(printed) ? null : `${tool} printed "${printed.slice(0, 20)}", not the current code`;
  };
}

function cell(result: RepeatedRuns | undefined, pick: (r: RepeatedRuns) => string): string {
  if (!result) return 'n/a';
  return result.failure ? `FAILED: ${result.failure}` : pick(result);
}

function ratio(ours: number | null, theirs: number | null): string {
  if (ours === null || theirs === null || !Number.isFinite(ours) || !Number.isFinite(theirs) || theirs === 0) return 'n/a';
  return `${(ours / theirs).toFixed(3)}×`;
}

interface SizeResult {
  readonly size: number;
  readonly customers: number;
  readonly buildMs: number;
  readonly fileBytes: number;
  readonly local: InProcess;
  /** 1-minute load average when the process measurements began. */
  readonly loadDuring: number;
  readonly cliCheap?: RepeatedRuns;
  readonly cliDesign?: RepeatedRuns;
  readonly peers: ReadonlyArray<{ readonly label: string; readonly runs: RepeatedRuns }>;
  readonly peerPrep?: { readonly xmlBytes: number; readonly importMs: number; readonly exportMs: number; readonly rewriteMs: number };
  /** `crewvault import` of the KDBX 4 database into a new vault (issue #12: < 30 s at 100,000). */
  readonly kdbxImport?: { readonly run: ProcessRun; readonly imported: string } | { readonly failure: string };
  readonly peerError?: string;
}

export async function benchVault(): Promise<void> {
  const root = mkdtempSync(path.join(tmpdir(), 'crewvault-bench-'));
  const cleanup = (): void => rmSync(root, { recursive: true, force: true });
  const onSignal = (): void => {
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Started now, while this process is small: it starts every measured process.
  const spawner = new Spawner();
  try {
    await run(root, spawner);
  } finally {
    spawner.close();
    cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

async function run(root: string, spawner: Spawner): Promise<void> {
  const gnuTime = hasGnuTime();
  const keepassxc = keepassxcVersion();
  const bin = fileURLToPath(new URL('../bin/crewvault.mjs', import.meta.url));
  const haveCli = existsSync(bin) && existsSync(fileURLToPath(new URL('../dist/cli.mjs', import.meta.url)));
  const statsFile = path.join(root, 'time.txt');
  const loadAtStart = loadavg()[0] ?? 0;
  const fsyncAtStart = fsyncProbe(path.join(root, 'fsync-probe'));

  const cheapArgonMs = await argon2Ms(CHEAP_KDF, 5);
  const designArgonMs = await argon2Ms(DESIGN_KDF, 3);
  const results: SizeResult[] = [];
  let designKdfStored = kdfText(DESIGN_KDF);
  let cheapKdfStored = kdfText(CHEAP_KDF);

  for (const size of sizes()) {
    const dir = path.join(root, String(size));
    const entries = benchEntries(size);
    const customers = new Set(entries.map((e) => e.customer)).size;
    const cheapFile = path.join(dir, 'cheap-kdf.crewvault');
    const designFile = path.join(dir, 'design-kdf.crewvault');

    progress(`${count(size)} entries: building the vaults`);
    const buildMs = await buildVault(cheapFile, entries, CHEAP_KDF);
    await buildVault(designFile, entries, DESIGN_KDF);
    cheapKdfStored = (await storedKdf(cheapFile));
    designKdfStored = (await storedKdf(designFile));
    const fileBytes = statSync(cheapFile).size;
    // Collect the build's garbage now, so the measurements below do not pay for it.
    globalThis.gc?.();

    progress(`${count(size)} entries: unlock, lookup, search in process`);
    const local = await inProcess(cheapFile, entries);

    const target = lookupTarget(entries);
    // Every process measurement of this size runs in turns (crewvault, keepassxc, crewvault, …)
    // so that other load on the machine slows both sides alike.
    const contenders: Contender[] = [];
    const crewvaultOtp = (file: string): Contender => ({
      rounds: CLI_ROUNDS,
      run: () => runMeasured(spawner, process.execPath, [bin, 'otp', '--vault', file, target.path], `${PASSWORD}\n`, statsFile, gnuTime),
      check: codeCheck(target.params, 'crewvault'),
    });
    if (haveCli) contenders.push(crewvaultOtp(cheapFile), crewvaultOtp(designFile));

    const peerLabels: string[] = [];
    let peerPrep: SizeResult['peerPrep'];
    let kdbxImport: SizeResult['kdbxImport'];
    let peerError: string | undefined;
    if (keepassxc) {
      try {
        progress(`${count(size)} entries: keepassxc-cli import, export, KDBX 4 rewrite`);
        const xmlFile = path.join(dir, 'entries.xml');
        const exported = path.join(dir, 'exported.xml');
        const importedDb = path.join(dir, 'imported.kdbx');
        const argonDb = path.join(dir, 'argon2id.kdbx');
        writeFileSync(xmlFile, keepassXml(entries), { mode: 0o600 });
        const xmlBytes = statSync(xmlFile).size;
        let start = nowMs();
        importXml(xmlFile, importedDb, PASSWORD, designArgonMs);
        const importMs = nowMs() - start;
        rmSync(xmlFile);
        start = nowMs();
        exportXml(importedDb, PASSWORD, exported);
        const exportMs = nowMs() - start;
        start = nowMs();
        await writeKdbx4(argonDb, readFileSync(exported, 'utf8'), PASSWORD, DESIGN_ARGON2);
        const rewriteMs = nowMs() - start;
        rmSync(exported); // plain XML with the (made-up) passwords: gone as soon as used
        peerPrep = { xmlBytes, importMs, exportMs, rewriteMs };
        if (haveCli) {
          progress(`${count(size)} entries: crewvault import of the KDBX 4 database`);
          const into = path.join(dir, 'imported.crewvault');
          await (await createVault(into, { owner: OWNER, password: PASSWORD, kdf: CHEAP_KDF })).close();
          // Your password, then the database's: both on stdin, as a person pipes them.
          const run = await runMeasured(spawner, process.execPath, [bin, 'import', '--vault', into, argonDb], `${PASSWORD}\n${PASSWORD}\n`, statsFile, gnuTime);
          kdbxImport = run.status === 0 ? { run, imported: run.stdout.trim() } : { failure: run.stderr.trim().split('\n')[0] ?? `exit ${run.status}` };
          rmSync(into, { force: true });
        }
        const show = (file: string): Contender => ({
          rounds: size >= 100_000 ? PEER_ROUNDS_LARGE : PEER_ROUNDS,
          run: () => runMeasured(spawner, KEEPASSXC_CLI, ['show', '-q', '-t', file, target.path], `${PASSWORD}\n`, statsFile, gnuTime),
          check: codeCheck(target.params, 'keepassxc-cli'),
        });
        contenders.push(show(argonDb), show(importedDb));
        peerLabels.push(`${describeKdbx(argonDb)} (same parameters)`, `${describeKdbx(importedDb)} (import -t ${Math.round(designArgonMs)} ms)`);
      } catch (error) {
        peerError = error instanceof Error ? error.message : String(error);
      }
    }

    progress(`${count(size)} entries: crewvault otp${peerLabels.length > 0 ? ' and keepassxc-cli show -t, in turns' : ''}`);
    const loadDuring = loadavg()[0] ?? 0;
    const measured = await measureInTurns(contenders);
    const [cliCheap, cliDesign] = haveCli ? measured : [];
    const peerRuns = measured.slice(haveCli ? 2 : 0);
    const peers = peerLabels.flatMap((label, i) => {
      const runs = peerRuns[i];
      return runs ? [{ label, runs }] : [];
    });

    results.push({ size, customers, buildMs, fileBytes, local, loadDuring, ...(cliCheap ? { cliCheap } : {}), ...(cliDesign ? { cliDesign } : {}), peers, ...(peerPrep ? { peerPrep } : {}), ...(kdbxImport ? { kdbxImport } : {}), ...(peerError ? { peerError } : {}) });
    rmSync(dir, { recursive: true, force: true });
    globalThis.gc?.();
  }

  // ---- tables -------------------------------------------------------------------------------
  console.log(
    `\nVault bench: ${cpus().length} CPUs, 1-minute load average ${loadAtStart.toFixed(2)} at the start, ${(loadavg()[0] ?? 0).toFixed(2)} at the end ` +
      `(other processes on the machine slow every number below). Temp folder ${root}, removed afterwards.`,
  );
  const fsyncAtEnd = fsyncProbe(path.join(root, 'fsync-probe'));
  console.log(
    `4 KiB write + fsync in the temp folder (each commit waits for one or more): p50 ${formatMs(fsyncAtStart.p50)}, max ${formatMs(fsyncAtStart.max)} at the start; ` +
      `p50 ${formatMs(fsyncAtEnd.p50)}, max ${formatMs(fsyncAtEnd.max)} at the end.`,
  );
  printTable(
    `Vault in process, Argon2 excluded (owner's KDF ${cheapKdfStored}: ${formatMs(cheapArgonMs)} per sign-in, included below). ` +
      `Budgets (DESIGN): unlock → list < 1 s, search < 10 ms p95, at 100,000`,
    results.map((r): Row => ({
      entries: count(r.size),
      customers: count(r.customers),
      build: formatMs(r.buildMs),
      'vault file': `${(r.fileBytes / (1024 * 1024)).toFixed(1)} MiB`,
      'open + sign-in': formatMs(r.local.openSignInMs),
      'unlock → list all': formatMs(r.local.unlockListMs),
      'resolvePath p50': formatMs(percentile(r.local.resolveMs, 50)),
      '+ otpCode p50': formatMs(percentile(r.local.lookupMs, 50)),
      '+ otpCode p95': formatMs(percentile(r.local.lookupMs, 95)),
      'search p50': formatMs(percentile(r.local.searchMs, 50)),
      'search p95': formatMs(percentile(r.local.searchMs, 95)),
      'hits/query': count(Math.round(r.local.searchHits / Math.max(1, r.local.searchMs.length))),
    })),
  );
  console.log(
    `  Lookups: ${LOOKUP_SAMPLES} random TOTP entries (otpCode writes its audit row and commits, synchronous=FULL). ` +
      `Search: the service's listEntries({search}) (what crewvault list --search runs), ${results[0]?.local.searchMs.length ?? 0} queries, each a full pass; ` +
      `the UI narrows its loaded list in the renderer instead (renderer/search.ts), not measured here.`,
  );

  if (!results.some((r) => r.cliCheap)) {
    console.log(`\ncrewvault otp: skipped (${bin} or dist/cli.mjs missing: run npm run build)`);
  } else {
    printTable(
      `crewvault otp as a whole process (node bin/crewvault.mjs otp --vault V "Customer/Title", password piped), median of ${CLI_ROUNDS} after a warm-up, in turns with the other processes of the same size. ` +
        `Budget (DESIGN): < 150 ms at 100,000 with Argon2 excluded`,
      results.flatMap((r): Row[] => {
        const row = (vault: string, runs: RepeatedRuns | undefined): Row => ({
          entries: count(r.size),
          vault,
          'wall p50': cell(runs, (x) => formatMs(x.wallMs)),
          'wall min–max': cell(runs, (x) => `${formatMs(Math.min(...x.runs.map((y) => y.wallMs)))}–${formatMs(Math.max(...x.runs.map((y) => y.wallMs)))}`),
          'peak RSS p50': cell(runs, (x) => formatMiB(x.peakRssKiB)),
          'load avg': r.loadDuring.toFixed(2),
        });
        return [row(`Argon2 excluded: ${cheapKdfStored}`, r.cliCheap), row(`DESIGN default: ${designKdfStored}`, r.cliDesign)];
      }),
    );
  }

  if (!keepassxc) {
    console.log(`\nkeepassxc-cli: not installed (Debian package keepassxc), no peer comparison`);
    return;
  }
  printTable(
    `vs ${keepassxc.startsWith('2') ? `KeePassXC ${keepassxc}` : keepassxc}: keepassxc-cli show -t DB "Customer/Title" (password piped), median of ${PEER_ROUNDS} (${PEER_ROUNDS_LARGE} at 100,000+) after a warm-up, in turns with crewvault otp; ` +
      `crewvault otp on a vault with ${designKdfStored}. Budget (issue 3): at 100,000, wall < 0.10×, memory < 0.25×`,
    results.flatMap((r) =>
      r.peers.map((p): Row => ({
        entries: count(r.size),
        'keepassxc database': p.label,
        'keepassxc wall': cell(p.runs, (x) => formatMs(x.wallMs)),
        'keepassxc RSS': cell(p.runs, (x) => formatMiB(x.peakRssKiB)),
        'crewvault wall': cell(r.cliDesign, (x) => formatMs(x.wallMs)),
        'crewvault RSS': cell(r.cliDesign, (x) => formatMiB(x.peakRssKiB)),
        'wall ratio': ratio(r.cliDesign?.failure ? null : (r.cliDesign?.wallMs ?? null), p.runs.failure ? null : p.runs.wallMs),
        'memory ratio': ratio(r.cliDesign?.failure ? null : (r.cliDesign?.peakRssKiB ?? null), p.runs.failure ? null : p.runs.peakRssKiB),
      })),
    ),
  );
  printTable(
    `KDF each side used (Argon2 times measured in this process with the argon2 package)`,
    [
      { side: 'crewvault, "Argon2 excluded" rows', kdf: cheapKdfStored, 'time per unlock': formatMs(cheapArgonMs), how: 'createVault kdf option; read back from the vault file' },
      { side: 'crewvault, comparison rows', kdf: designKdfStored, 'time per unlock': formatMs(designArgonMs), how: 'DESIGN default; read back from the vault file' },
      { side: 'keepassxc, KDBX 4.0 rows', kdf: `Argon2id m=${DESIGN_ARGON2.memoryKiB / 1024} MiB t=${DESIGN_ARGON2.iterations} p=${DESIGN_ARGON2.parallelism}`, 'time per unlock': 'same parameters, not timed apart', how: 'keepassxc-cli export → KDBX 4.0 written by the bench (keepassxc-cli cannot set a KDF)' },
      { side: 'keepassxc, KDBX 3.1 rows', kdf: 'AES-KDF, rounds in the row', 'time per unlock': `≈ ${formatMs(designArgonMs)} (target)`, how: `keepassxc-cli import -t ${Math.round(designArgonMs)}: its own benchmark picks the rounds` },
    ],
  );
  printTable(
    'KeePassXC databases: preparation (not part of any measurement above)',
    results.flatMap((r): Row[] =>
      r.peerPrep
        ? [{
            entries: count(r.size),
            'KeePass XML': `${(r.peerPrep.xmlBytes / (1024 * 1024)).toFixed(1)} MiB`,
            'keepassxc-cli import': formatMs(r.peerPrep.importMs),
            'keepassxc-cli export': formatMs(r.peerPrep.exportMs),
            'KDBX 4 rewrite': formatMs(r.peerPrep.rewriteMs),
          }]
        : [],
    ),
  );
  printTable(
    'crewvault import of the KDBX 4 database (Argon2id as above) into a new vault, as a whole process. Budget (issue #12): 100,000 entries < 30 s, memory bounded',
    results.flatMap((r): Row[] => {
      const i = r.kdbxImport;
      if (!i) return [];
      if ('failure' in i) return [{ entries: count(r.size), 'import wall': 'failed', 'peak RSS': '', result: i.failure }];
      return [{ entries: count(r.size), 'import wall': formatMs(i.run.wallMs), 'peak RSS': i.run.peakRssKiB === null ? 'n/a' : formatMiB(i.run.peakRssKiB), 'keepassxc-cli import (XML, beside)': r.peerPrep ? formatMs(r.peerPrep.importMs) : '', result: i.imported }];
    }),
  );
  for (const r of results) if (r.peerError) console.log(`\nkeepassxc at ${count(r.size)} entries: not measured (${r.peerError})`);
  if (!gnuTime) console.log('\nPeak RSS: n/a — GNU time (/usr/bin/time, Debian package time) is not installed.');
}
