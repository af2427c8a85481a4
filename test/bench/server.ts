/**
 * `npm run bench:server` (issue 14): full OPAQUE sign-ins against a real Crewvault server,
 * once on PGlite (its data folder in a temp dir) and once on PostgreSQL (a private cluster from
 * test/support/postgres.ts, or the one CREWVAULT_TEST_DATABASE_URL names). Per database: the
 * server is started as `crewvault server` in a child process on 127.0.0.1 (server-process.ts),
 * N accounts are registered, a warm-up runs, then a fixed number of sign-ins by 200 concurrent
 * clients (signin-load.ts) measures sign-ins per second, p50/p99 latency, the server's CPU
 * time per sign-in and the database's beside it (/proc, proc.ts), and the server's peak RSS.
 * Prints a table, never pass/fail; ends by itself and removes what it made (server, cluster,
 * temp folders), on Ctrl+C too.
 *
 * Knobs: CREWVAULT_BENCH_SERVER_CLIENTS (200), _ACCOUNTS (1000), _SIGNINS (5000), _WARMUP
 * (400), _DATABASES (pglite,postgres).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startTestPostgres, type TestPostgres } from '../support/postgres';
import { TEST_KEY_STRETCHING } from '../server/support';
import { formatMiB, formatMs, fsyncProbe, nowMs, percentile } from './measure';
import { parentOf, peakRssKiB, processCpuMs, processTreeCpuMs, resetPeakRss, rssKiB } from './proc';
import { startBenchServer, type BenchServer } from './server-process';
import { BenchClient, clientAddress, registerAccounts, runSignIns, type SignInRun } from './signin-load';
import { formatRate, printTable, type Row } from './table';

const KINDS = ['pglite', 'postgres'] as const;
type Kind = (typeof KINDS)[number];
const KIND_NAMES: Record<Kind, string> = { pglite: 'PGlite', postgres: 'PostgreSQL' };
const REGISTER_PARALLEL = 16;

function knob(name: string, fallback: number): number {
  const value = Number(process.env[`CREWVAULT_BENCH_SERVER_${name}`]);
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

function kinds(): Kind[] {
  const raw = process.env.CREWVAULT_BENCH_SERVER_DATABASES;
  if (!raw) return [...KINDS];
  const picked = KINDS.filter((k) => raw.split(',').map((s) => s.trim()).includes(k));
  return picked.length > 0 ? picked : [...KINDS];
}

const CLIENTS = knob('CLIENTS', 200);
const ACCOUNTS = knob('ACCOUNTS', 1000);
const SIGNINS = knob('SIGNINS', 5000);
const WARMUP = knob('WARMUP', 400);

function progress(text: string): void {
  process.stderr.write(`  [server bench] ${text}\n`);
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** A temp folder removed at the end, or on the way out should the bench die first. */
function tempFolder(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const remove = (): void => {
    process.removeListener('exit', remove);
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', remove);
  return { dir, remove };
}

interface DatabaseInfo {
  readonly version: string;
  /** The cluster's postmaster, when its processes can be read here. */
  readonly postmaster: number | undefined;
}

async function describePostgres(url: string): Promise<DatabaseInfo> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number; version: string }>("SELECT pg_backend_pid() AS pid, current_setting('server_version') AS version");
    const row = rows[0];
    if (row === undefined) throw new Error('PostgreSQL did not say who it is');
    const postmaster = parentOf(row.pid);
    return { version: row.version, postmaster: postmaster !== undefined && Number.isFinite(processTreeCpuMs(postmaster)) ? postmaster : undefined };
  } finally {
    await client.end();
  }
}

function pgliteVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(path.resolve('node_modules/@electric-sql/pglite/package.json'), 'utf8')) as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : '?';
  } catch {
    return '?';
  }
}

interface Result {
  readonly database: string;
  readonly startMs: number;
  readonly registerMs: number;
  readonly idleRssKiB: number | null;
  readonly run: SignInRun;
  readonly serverCpuMs: number;
  /** NaN when the database's processes cannot be read (PGlite: none; a remote PostgreSQL). */
  readonly databaseCpuMs: number;
  readonly clientCpuMs: number;
  readonly peakRssKiB: number | null;
  /** False when the peak could not be reset after the warm-up: it is then the peak since start. */
  readonly peakSinceWarmup: boolean;
  /** The server log's last error lines, when sign-ins failed. */
  readonly serverErrors: readonly string[];
}

/** Registration, warm-up, then the measured sign-ins, on a server already listening. */
async function measure(server: BenchServer, info: DatabaseInfo, database: string): Promise<Result> {
  const idleRssKiB = rssKiB(server.pid);
  const invite = readFileSync(server.ownerInviteFile, 'utf8').trim();
  progress(`${database}: registering ${count(ACCOUNTS)} accounts…`);
  const registerStart = nowMs();
  const accounts = await registerAccounts(server.url, invite, ACCOUNTS, REGISTER_PARALLEL);
  const registerMs = nowMs() - registerStart;

  const clients = Array.from({ length: CLIENTS }, (_, i) => new BenchClient(server.url, clientAddress(i)));
  progress(`${database}: warm-up, ${count(WARMUP)} sign-ins…`);
  await runSignIns(clients, accounts, WARMUP);

  progress(`${database}: ${count(SIGNINS)} sign-ins by ${count(CLIENTS)} clients…`);
  const peakSinceWarmup = resetPeakRss(server.pid);
  const server0 = processCpuMs(server.pid);
  const database0 = info.postmaster === undefined ? Number.NaN : processTreeCpuMs(info.postmaster);
  const client0 = process.cpuUsage();
  const run = await runSignIns(clients, accounts, SIGNINS);
  const client1 = process.cpuUsage(client0);
  const serverCpuMs = processCpuMs(server.pid) - server0;
  const databaseCpuMs = info.postmaster === undefined ? Number.NaN : processTreeCpuMs(info.postmaster) - database0;
  const peak = peakRssKiB(server.pid);
  return {
    database, startMs: server.startMs, registerMs, idleRssKiB, run, serverCpuMs, databaseCpuMs,
    clientCpuMs: (client1.user + client1.system) / 1000, peakRssKiB: peak, peakSinceWarmup, serverErrors: run.failed > 0 ? server.errors() : [],
  };
}

async function benchOne(kind: Kind, cluster: TestPostgres | undefined): Promise<Result> {
  const folder = tempFolder(`crewvault-bench-server-${kind}-`);
  try {
    const databaseUrl = cluster === undefined ? undefined : await cluster.createDatabase();
    const info: DatabaseInfo = databaseUrl === undefined ? { version: pgliteVersion(), postmaster: undefined } : await describePostgres(databaseUrl);
    const database = kind === 'pglite' ? `PGlite ${info.version}` : `PostgreSQL ${info.version}`;
    progress(`${database}: starting crewvault server…`);
    const server = await startBenchServer(folder.dir, databaseUrl);
    try {
      return await measure(server, info, database);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new Error([why, ...server.errors().map((line) => `  server log: ${line}`)].join('\n'), { cause: error });
    } finally {
      await server.stop();
    }
  } finally {
    folder.remove();
  }
}

function perSignIn(ms: number, run: SignInRun): string {
  return run.done === 0 || !Number.isFinite(ms) ? 'n/a' : formatMs(ms / run.done);
}

function rows(results: ReadonlyMap<Kind, Result | Error>): Row[] {
  const line = (measure: string, value: (r: Result) => string, note: string): Row => {
    const row: Record<string, string> = { measure };
    for (const [kind, result] of results) row[KIND_NAMES[kind]] = result instanceof Error ? 'failed' : value(result);
    row.note = note;
    return row;
  };
  return [
    line('sign-ins per second', (r) => formatRate((r.run.done / r.run.wallMs) * 1000), `${count(SIGNINS)} sign-ins after ${count(WARMUP)} warm-up, ${count(CLIENTS)} concurrent clients, ${count(ACCOUNTS)} accounts`),
    line('sign-in latency p50', (r) => formatMs(percentile(r.run.totalMs, 50)), 'loginStart sent → loginFinish answered, as the client saw it'),
    line('sign-in latency p99', (r) => formatMs(percentile(r.run.totalMs, 99)), '  (includes the client\'s own OPAQUE work between the two)'),
    line('  the two requests only, p50', (r) => formatMs(percentile(r.run.requestsMs, 50)), 'request sent → reply read, both requests summed'),
    line('  the two requests only, p99', (r) => formatMs(percentile(r.run.requestsMs, 99)), ''),
    line('server CPU per sign-in', (r) => perSignIn(r.serverCpuMs, r.run), 'the crewvault server process, user + system (/proc); PGlite runs inside it'),
    line('PostgreSQL CPU per sign-in', (r) => perSignIn(r.databaseCpuMs, r.run), 'the cluster\'s processes (postmaster and backends); n/a on PGlite'),
    line('server + database CPU per sign-in', (r) => perSignIn(r.serverCpuMs + (Number.isNaN(r.databaseCpuMs) ? 0 : r.databaseCpuMs), r.run), 'the two above together: what a sign-in costs the machine'),
    line('server CPU in use', (r) => `${(r.serverCpuMs / r.run.wallMs).toFixed(2)} cores`, `of ${cpus().length}, shared with the clients and PostgreSQL`),
    line('clients\' CPU per sign-in', (r) => perSignIn(r.clientCpuMs, r.run), 'the bench process: OPAQUE client half (cheap stretching) and HTTP, on the same cores'),
    line('server peak RSS', (r) => `${formatMiB(r.peakRssKiB)}${r.peakSinceWarmup ? '' : ' *'}`, 'during the measured sign-ins (* since start: peak could not be reset)'),
    line('server RSS after start', (r) => formatMiB(r.idleRssKiB), 'listening, before any account'),
    line('failed sign-ins', (r) => `${count(r.run.failed)}`, [...results.values()].map((r) => (r instanceof Error ? undefined : r.run.firstFailure)).find((f) => f !== undefined) ?? ''),
    line('sessions asked for a second step', (r) => count(r.run.secondStepAsked), 'the bench\'s accounts have no MFA: expected 0'),
    line('registration', (r) => `${(r.registerMs / 1000).toFixed(1)} s`, `owner + ${count(ACCOUNTS)} invites and OPAQUE registrations, ${REGISTER_PARALLEL} at a time (not measured above)`),
    line('server start → listening', (r) => formatMs(r.startMs), 'crewvault server: Node, migrations, keys'),
  ];
}

async function benchServer(): Promise<void> {
  // Ctrl+C: leave through process.exit, so the exit handlers stop the server and the cluster and remove the folders.
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  const loadAtStart = loadavg()[0] ?? 0;
  // PGlite writes its data folder from the server's own thread: a slow disk shows in its numbers.
  const disk = fsyncProbe(path.join(tmpdir(), `crewvault-bench-server-fsync-${process.pid}`));
  const results = new Map<Kind, Result | Error>();
  let postgresNote = '';
  for (const kind of kinds()) {
    let cluster: TestPostgres | undefined;
    try {
      if (kind === 'postgres') {
        progress('starting PostgreSQL…');
        cluster = await startTestPostgres();
        postgresNote = process.env.CREWVAULT_TEST_DATABASE_URL
          ? 'PostgreSQL: the server at CREWVAULT_TEST_DATABASE_URL (its CPU column counts every database on that cluster).'
          : 'PostgreSQL: a private cluster on 127.0.0.1 with fsync and synchronous_commit off (test/support/postgres.ts): its commits never wait for the disk; a production server\'s do.';
      }
      results.set(kind, await benchOne(kind, cluster));
    } catch (error) {
      results.set(kind, error instanceof Error ? error : new Error(String(error)));
    } finally {
      await cluster?.stop();
    }
  }

  const model = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `\nServer bench: ${cpus().length} CPUs (${model}), Node ${process.versions.node}, ${process.platform}/${process.arch}; ` +
    `1-minute load average ${loadAtStart.toFixed(2)} at the start, ${(loadavg()[0] ?? 0).toFixed(2)} at the end ` +
    `(a busy machine slows every number); 4 KiB write + fsync in ${tmpdir()}: p50 ${formatMs(disk.p50)}, worst ${formatMs(disk.max)}. ` +
    'Server and clients share these cores.',
  );
  printTable('Full OPAQUE sign-ins (loginStart + loginFinish) against crewvault server on 127.0.0.1', rows(results));
  for (const [kind, result] of results) {
    if (result instanceof Error) console.log(`\n${KIND_NAMES[kind]} failed: ${result.message}`);
    else if (result.serverErrors.length > 0) console.log(`\n${KIND_NAMES[kind]}: sign-ins failed; the server's log says\n${result.serverErrors.map((line) => `  ${line}`).join('\n')}`);
  }
  const stretching = TEST_KEY_STRETCHING['argon2id-custom'];
  console.log([
    '',
    'Included: HTTP on loopback with a new connection per request (as the desktop makes them), zod parsing, OPAQUE\'s server',
    'half, the throttle\'s bookkeeping, the login attempt row, the new session, the signed audit record of each sign-in, and',
    'the JSON request log (written to a file in the temp folder). Each client signs in from an address of its own (127.10.x.y).',
    `Not included: the client's key stretching — clients use the tests' Argon2id m=${stretching.memory} KiB t=${stretching.iterations} p=${stretching.parallelism}`,
    '(a desktop pays its real stretching on its own machine, the server never does); TLS (plain HTTP on loopback: a server',
    'elsewhere adds a handshake per connection); the second step (no MFA on these accounts); registration (listed apart).',
    `Latency: every client starts its next sign-in as soon as one ends, so ${count(CLIENTS)} are always waiting: latency ≈ clients ÷ sign-ins per second.`,
    ...(postgresNote === '' ? [] : [postgresNote]),
  ].join('\n'));
}

await benchServer();
