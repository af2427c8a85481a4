/**
 * Team sync under faults (#15, "Real parts in the tests"): two `crewvault server` processes on
 * one private PostgreSQL, desktops that are real vault files synced with the real CLI code
 * (in this process, on an injected clock) or a real `crewvault sync --watch` process, all on
 * loopback. What is done to them: kill -9 of a server process in the middle of a burst of
 * pushes (five rounds, the kill at a seeded push: as it arrives, as it commits, or committed
 * with its reply lost in a relay), PostgreSQL stopped with a push inside its transaction and
 * started again while two desktops sync through the two processes, every LISTEN connection cut
 * while a push goes on, a desktop edited while cut off from its server, a watching desktop's
 * process killed, a vault's move whose reply was lost, and a burst of pushes through both
 * processes heard by streams held on both.
 * What must hold: nothing the server acknowledged is lost, what it did not acknowledge goes
 * on the retry, no record comes back as a duplicate or a conflict copy of itself, both
 * desktops end entry for entry the same (decrypted), edits made on both sides keep both
 * versions, HOTP counters only move forward, a database outage is BUSY (try again), and a
 * stream hears every push after a restart. docs/SYNC.md "Faults" says the same in a table.
 * Waits are on real state with deadlines (server log lines, PostgreSQL's NOTIFY and activity,
 * the files, the stream), never a sleep. Must never: leave a process running (afterAll kills them all), or put a secret in a
 * process's arguments (passwords travel on stdin and PGPASSWORD).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainDeviceStore } from '../../electron/devices';
import { TeamClient } from '../../electron/team/client';
import { ServerProfiles, SessionKeeper } from '../../electron/team/profiles';
import type { EventStream } from '../../electron/team/transport';
import type { VaultSession } from '../../electron/vault/service';
import { copyAsNewDesktop } from '../support/replica';
import { createVault, Vault } from '../../electron/vault/vault';
import { hotpCode, parseOtpUri } from '../../shared/otp';
import type { EntryRecord } from '../../shared/sync/records';
import { signedBatch } from '../server/signers';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { onDatabaseAt, startTestPostgres, type TestPostgres } from '../support/postgres';
import { seededRandom } from '../support/random';
import { runScripted, type CliOutcome } from '../support/scripted-cli';
import { startReplyCutter, type ReplyCutter } from '../support/reply-cutter';
import { freePort, ServerProcesses, splitDatabaseUrl, until, type ServerProcess } from '../support/server-process';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';

const SERVER_PASSWORD = 'alice on the team server 1';
const HOTP = 'otpauth://hotp/Acme:VPN?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=5';
/** A push request as the server logs it when it arrives (Fastify's "incoming request"). */
const PUSH_ARRIVED = /"msg":"incoming request".*"route":"\/v1\/sync\/push"|"route":"\/v1\/sync\/push".*"msg":"incoming request"/;

/** Awaits a vault call whether it answers with a value or a promise. */
const settle = <T>(value: T): Promise<Awaited<T>> => Promise.resolve(value);

interface Desktop {
  readonly name: string;
  readonly file: string;
  readonly keychain: string;
  readonly env: NodeJS.ProcessEnv;
}

/** One entry as a person sees it, opened: what both desktops must agree on. */
interface SeenEntry {
  readonly path: string;
  readonly password: string;
}

// The servers run on the real clock; the CLI's clock starts there and is moved by hand.
const clock = manualClock(Date.now());
const processes = new ServerProcesses();
let keyring: PrivateKeyring;
let cluster: TestPostgres;
let home: string;
let database: { readonly database: string; readonly password: string };
let databaseUrl: string;
let dataDir: string;
let ports: [number, number];
/** The two server processes of the team server (index 0 is the one killed and started again). */
const servers: ServerProcess[] = [];
let a: Desktop;
let b: Desktop;
/** Desktop A reaches process 1 through this relay, which can lose a reply (B goes straight). */
let relay: ReplyCutter;
/** The desktops that reach process 1 through the relay. */
const relayed = new Set<Desktop>();

/** The address a desktop uses for server process `index`. */
function urlOf(desktop: Desktop, index: 0 | 1): string {
  return relayed.has(desktop) && index === 0 ? relay.url : `http://127.0.0.1:${ports[index]}`;
}

/** With CREWVAULT_TEST_DATABASE_URL the cluster is someone else's: it is neither restarted nor closed to connections. */
const OUTSIDE_DATABASE = Boolean(process.env.CREWVAULT_TEST_DATABASE_URL);

const PATHS: readonly string[] = Array.from({ length: 12 }, (_, i) => `${['Acme', 'Globex', 'Initech'][i % 3] ?? 'Acme'}/Account ${i}`);

function pathOf(index: number): string {
  const found = PATHS[index];
  if (found === undefined) throw new Error(`no entry ${index}`);
  return found;
}

function server(index: 0 | 1): ServerProcess {
  const found = servers[index];
  if (!found) throw new Error(`server process ${index + 1} is not running`);
  return found;
}

/** Server process `index`, started again (same port, same folder) if it is not running. */
async function running(index: 0 | 1): Promise<ServerProcess> {
  const current = servers[index];
  return current?.running ? current : startProcess(index);
}

async function startProcess(index: 0 | 1): Promise<ServerProcess> {
  const started = await processes.start({ ...database, dataDir, port: ports[index] });
  servers[index] = started;
  return started;
}

beforeAll(async () => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-faults-'));
  dataDir = path.join(home, 'server');
  cluster = await startTestPostgres();
  databaseUrl = await cluster.createDatabase();
  database = splitDatabaseUrl(databaseUrl);
  ports = [await freePort(), await freePort()];
  await startProcess(0);
  relay = await startReplyCutter(() => ports[0]);

  // Desktop A: a vault with a dozen entries and an HOTP; desktop B: a copy of its file, another device.
  a = { name: 'A', file: path.join(home, 'desktop-a.crewvault'), keychain: 'crewvault-faults-a', env: { CREWVAULT_CONFIG: path.join(home, 'config-a'), CREWVAULT_KEYCHAIN_SERVICE: 'crewvault-faults-a' } };
  relayed.add(a);
  b = { name: 'B', file: path.join(home, 'desktop-b.crewvault'), keychain: 'crewvault-faults-b', env: { CREWVAULT_CONFIG: path.join(home, 'config-b'), CREWVAULT_KEYCHAIN_SERVICE: 'crewvault-faults-b' } };
  const session = await createVault(a.file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
  await settle(session.createEntries([
    ...PATHS.map((p, i) => ({ customer: p.split('/')[0] ?? 'Acme', title: p.split('/')[1] ?? 'x', password: `start-${i}` })),
    { customer: 'Acme', title: 'VPN', otp: { params: parseOtpUri(HOTP).params } },
  ]));
  await settle(session.close());
  await copyAsNewDesktop(a.file, b.file, clock);
  for (const desktop of [a, b]) await onDesktop(desktop, (s) => settle(s.replica.agreeAll()));

  // The owner registers through process 1 before process 2 starts (which would otherwise write a fresh invite).
  await cli(a, ['login', urlOf(a, 0), '--user', 'alice', '--invite-file', path.join(dataDir, 'owner-invite.txt')], [SERVER_PASSWORD]);
  await startProcess(1);
  await cli(a, ['login', server(1).url, '--user', 'alice'], [SERVER_PASSWORD]);
  for (const index of [0, 1] as const) await cli(b, ['login', server(index).url, '--user', 'alice'], [SERVER_PASSWORD]);
  expect((await sync(a, 0, '--move')).code).toBe('ok');
  expect((await sync(b, 1)).code).toBe('ok');
}, 120_000);

afterAll(async () => {
  for (const child of watchers) child.kill('SIGKILL');
  await processes.killAll();
  await relay?.close();
  await cluster?.stop();
  keyring?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
}, 60_000);

async function onDesktop<T>(desktop: Desktop, work: (session: VaultSession) => Promise<T>): Promise<T> {
  const vault = await settle(Vault.open(desktop.file, clock));
  const session = await settle(vault.signIn(OWNER, PASSWORD));
  try {
    return await work(session);
  } finally {
    await settle(session.close());
  }
}

async function cli(desktop: Desktop, args: readonly string[], answers: readonly string[]): Promise<CliOutcome> {
  const out = await runScripted(args, answers, clock, desktop.env);
  expect(out.code, `${desktop.name}: crewvault ${args[0] ?? ''}: ${out.stderr}`).toBe('ok');
  return out;
}

interface SyncReport {
  readonly applied: number;
  readonly pushed: number;
  readonly conflictCopies: number;
  readonly countersMerged: number;
  readonly held: number;
}

/** `crewvault sync URL --json` on a desktop through server process `index`: its outcome, which may be an error. */
async function sync(desktop: Desktop, index: 0 | 1, ...flags: string[]): Promise<CliOutcome & { readonly report?: SyncReport }> {
  clock.advance(1_000);
  const out = await runScripted(['sync', urlOf(desktop, index), '--json', '--vault', desktop.file, ...flags], [PASSWORD], clock, desktop.env);
  return out.code === 'ok' ? { ...out, report: JSON.parse(out.stdout) as SyncReport } : out;
}

async function syncOk(desktop: Desktop, index: 0 | 1): Promise<SyncReport> {
  const out = await sync(desktop, index);
  expect(out.code, `${desktop.name} syncing through process ${index + 1}: ${out.stderr}`).toBe('ok');
  if (!out.report) throw new Error('no report');
  return out.report;
}

async function setPassword(desktop: Desktop, entryPath: string, password: string): Promise<void> {
  clock.advance(1_000);
  await onDesktop(desktop, async (s) => {
    const entry = await settle(s.resolvePath(entryPath));
    await settle(s.updateEntry(entry.id, { password }, entry.revision ?? -1));
  });
}

/** Every entry, opened, in path order. */
async function seen(desktop: Desktop): Promise<SeenEntry[]> {
  return onDesktop(desktop, async (s) => {
    const list = await settle(s.listEntries());
    const out: SeenEntry[] = [];
    for (const e of list) {
      out.push({ path: `${e.customer}/${e.title}`, password: e.otp === null ? await settle(s.revealPassword(e.id)) : '' });
    }
    return out.sort((x, y) => x.path.localeCompare(y.path));
  });
}

async function teamClient(desktop: Desktop, index: 0 | 1): Promise<TeamClient> {
  const url = urlOf(desktop, index);
  const profile = new ServerProfiles(desktop.env.CREWVAULT_CONFIG ?? '').get(url);
  const tokens = await new SessionKeeper(keychainDeviceStore(desktop.keychain)).get(url, 'alice');
  if (!profile || !tokens) throw new Error(`${desktop.name} is not signed in to ${url}`);
  const client = new TeamClient(new URL(url), profile.trust, profile.deviceId);
  client.tokens = tokens;
  return client;
}

interface Watcher {
  /** Each round's report, as the watching process printed it. */
  readonly rounds: readonly SyncReport[];
  /** When it started (performance.now()): its own 30 s rounds come no sooner than 30 s after. */
  readonly startedAt: number;
  stderr(): string;
  /** SIGTERM, and its exit status. */
  stop(): Promise<number | null>;
}
const watchers = new Set<ChildProcess>();

/** `crewvault sync --watch` on a desktop through server process `index`: a real process, on the real clock. */
function startWatcher(desktop: Desktop, index: 0 | 1): Watcher {
  const bin = path.resolve(import.meta.dirname, '../../bin/crewvault.mjs');
  const child = spawn(process.execPath, [bin, 'sync', urlOf(desktop, index), '--watch', '--json', '--vault', desktop.file], { env: { ...process.env, ...desktop.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  watchers.add(child);
  child.stdin.end(`${PASSWORD}\n`);
  const rounds: SyncReport[] = [];
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      rounds.push(JSON.parse(pending.slice(0, newline)) as SyncReport);
      pending = pending.slice(newline + 1);
    }
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    watchers.delete(child);
    resolve(code);
  }));
  return {
    rounds,
    startedAt: performance.now(),
    stderr: () => stderr,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

function onDatabase<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  return onDatabaseAt(databaseUrl, work);
}

/**
 * Counts the pushes committed from now on, as PostgreSQL delivers their NOTIFY (on commit) to a
 * connection of the test's own; `waitFor(n)` resolves at the n-th, in the handler itself.
 */
async function listenForCommits(): Promise<{ waitFor(count: number, deadlineMs: number): Promise<void>; stop(): Promise<void> }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let heard = 0;
  const waiting = new Set<() => void>();
  client.on('notification', () => {
    heard++;
    for (const wake of [...waiting]) wake();
  });
  await client.query('LISTEN crewvault_sync');
  return {
    waitFor: (count, deadlineMs) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(check);
        reject(new Error(`gave up after ${deadlineMs} ms waiting for ${count} commits`));
      }, deadlineMs);
      const check = (): void => {
        if (heard < count) return;
        clearTimeout(timer);
        waiting.delete(check);
        resolve();
      };
      waiting.add(check);
      check();
    }),
    stop: () => client.end(),
  };
}

describe('team sync with two server processes on one PostgreSQL, under faults', () => {
  it('loses no acknowledged push when a server process is killed (-9) in the middle of a burst, and the desktop sends the rest through the other', async () => {
    const random = seededRandom();
    const outcomes: string[] = [];
    for (let round = 0; round < 5; round++) {
      if (round > 0) await startProcess(0);
      const victim = server(0);
      // Killed as the n-th push of this burst reaches it (its transaction not begun, or under way);
      // or as PostgreSQL delivers that push's NOTIFY, which it does on commit (its reply on the way);
      // or once it committed while its reply was lost on the way back (the relay drops it).
      const killAt = random.int(1, 6);
      const when = round < 3 ? (['arrives', 'commits', 'reply lost'] as const)[round] ?? 'arrives' : random.pick(['arrives', 'commits', 'reply lost'] as const);
      const commits = await listenForCommits();
      const cut = when === 'reply lost' ? relay.cutReplyOf('POST /v1/sync/push ', killAt) : undefined;
      const killPoint = when === 'arrives' ? victim.waitForLog(PUSH_ARRIVED, killAt, 60_000)
        : when === 'commits' ? commits.waitFor(killAt, 60_000)
          : (cut?.sent ?? Promise.resolve()).then(() => commits.waitFor(killAt, 60_000));
      const killed = killPoint.then(async () => {
        await victim.kill('SIGKILL');
        cut?.release();
      });
      killed.catch(() => undefined); // awaited below; should the burst fail first, no second report
      /** What A gave each entry, in order, and how far of it the server acknowledged. */
      const history = new Map<string, string[]>();
      const acked = new Map<string, number>();
      const unacked: string[] = [];
      let failure: CliOutcome | undefined;
      for (let step = 0; step < 12 && failure === undefined; step++) {
        const count = random.int(1, 3);
        for (let i = 0; i < count; i++) {
          const entryPath = random.pick(PATHS);
          const value = `r${round}-s${step}-${i}-${randomBytes(3).toString('hex')}`;
          await setPassword(a, entryPath, value);
          history.set(entryPath, [...(history.get(entryPath) ?? []), value]);
          unacked.push(entryPath);
        }
        const out = await sync(a, 0);
        if (out.code === 'ok') {
          for (const p of unacked.splice(0)) acked.set(p, (history.get(p)?.length ?? 0) - 1);
        } else {
          failure = out;
        }
      }
      await killed.finally(() => commits.stop());
      expect(failure?.code, `round ${round} (seed ${random.seed}): the burst outlived the kill`).toBe('SERVER_UNREACHABLE');
      // One more change while its server is gone: it goes with the retry too.
      const late = random.pick(PATHS);
      const lateValue = `r${round}-late`;
      await setPassword(a, late, lateValue);
      history.set(late, [...(history.get(late) ?? []), lateValue]);

      // Before A retries, B through the other process: every acknowledged change is there, or a later one of A's.
      await syncOk(b, 1);
      const onB = new Map((await seen(b)).map((e) => [e.path, e.password]));
      let storedUnacked = false;
      for (const [entryPath, values] of history) {
        const at = values.indexOf(onB.get(entryPath) ?? '');
        const floor = acked.get(entryPath);
        if (floor !== undefined) expect(at, `round ${round} (seed ${random.seed}): ${entryPath} lost an acknowledged change`).toBeGreaterThanOrEqual(floor);
        if (at > (floor ?? -1)) storedUnacked = true;
      }
      outcomes.push(`round ${round}: killed as push ${killAt} ${when}, ${storedUnacked ? 'its last push stored, unacknowledged' : 'nothing unacknowledged stored'}`);
      if (when === 'reply lost') expect(storedUnacked, `round ${round} (seed ${random.seed}): the push whose reply was lost was not stored`).toBe(true);

      // A retries through process 2: the rest goes, its own records coming back are known as its own.
      const retry = await syncOk(a, 1);
      expect(retry.conflictCopies).toBe(0);
      const fromB = await syncOk(b, 1);
      expect(fromB.conflictCopies).toBe(0);
      const [onA, onBAfter] = [await seen(a), await seen(b)];
      expect(onBAfter).toEqual(onA);
      expect(onA.map((e) => e.path)).toEqual([...PATHS, 'Acme/VPN'].sort((x, y) => x.localeCompare(y)));
      for (const [entryPath, values] of history) expect(onA.find((e) => e.path === entryPath)?.password).toBe(values.at(-1));
    }
    // No record twice on the server, and the vault's sequence is where its last record is.
    const counts = await onDatabase(async (db) => (await db.query<{ records: string; seqs: string; top: string | null; seq: string }>(
      'SELECT count(*) AS records, count(DISTINCT r.seq) AS seqs, max(r.seq) AS top, v.seq FROM sync_records r JOIN sync_vaults v USING (vault_id) GROUP BY v.seq',
    )).rows);
    expect(counts).toHaveLength(1);
    expect(counts[0]?.records).toBe(counts[0]?.seqs);
    expect(counts[0]?.top).toBe(counts[0]?.seq);
    console.log(`kill -9 rounds (seed ${random.seed}):\n  ${outcomes.join('\n  ')}`);
  }, 240_000);

  it.skipIf(OUTSIDE_DATABASE)('recovers from PostgreSQL restarted during sync: both processes serve again, a watching desktop hears changes through the stream, and everyone converges', async () => {
    await running(0);
    // B watches through process 1 (a real process on the real clock); A pushes through process 2.
    const watcher = startWatcher(b, 0);
    const { rounds } = watcher;
    // A stream held on process 1 by this test too, to count what it hears.
    const heard: number[] = [];
    let stream: EventStream | undefined;
    try {
      await until('the watcher\'s first round', () => rounds.length >= 1);
      stream = await (await teamClient(a, 0)).openSyncStream((await onDesktop(a, (s) => settle(s.replica.vaultId()))), (seq) => heard.push(seq));
      await until('the stream to say where the vault stands', () => heard.length >= 1);

      await setPassword(a, pathOf(0), 'before-restart');
      await syncOk(a, 1);
      await until('the watcher to take in the change made through the other process', () => rounds.slice(1).some((r) => r.applied > 0), 15_000);

      // A push under way when PostgreSQL stops: held inside its transaction (waiting on the vault's
      // row, which the test locks) until the stop cuts every connection.
      const holder = new pg.Client({ connectionString: databaseUrl });
      holder.on('error', () => undefined); // cut by the stop, as intended
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query('SELECT seq FROM sync_vaults FOR UPDATE');
      await setPassword(a, pathOf(7), 'in-flight');
      const inFlight = sync(a, 1);
      await until('A\'s push to wait on the vault\'s row inside its transaction', () => onDatabase(async (db) => (await db.query(
        "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%' AND pid <> pg_backend_pid()",
      )).rows.length > 0));
      let downFailure = '';
      const restart = cluster.restart;
      if (!restart) throw new Error('the private cluster cannot restart');
      await restart(async () => {
        expect((await inFlight).code).toBe('BUSY');
        await holder.end().catch(() => undefined);
        // While PostgreSQL is down: A's sync fails cleanly and changes nothing it holds.
        await setPassword(a, pathOf(1), 'while-down');
        const before = await seen(a);
        const out = await sync(a, 1);
        downFailure = out.code;
        expect(await seen(a)).toEqual(before);
      });
      expect(downFailure).toBe('BUSY'); // 503, try again: not INTERNAL, and not taken for a refusal
      // Neither server process died of its connections being cut.
      expect([server(0).running, server(1).running]).toEqual([true, true]);
      // Both processes serve again (new pool connections): A's change goes through process 2, B's watcher sees it.
      await until('A to sync through process 2 after the restart', async () => (await sync(a, 1)).code === 'ok', 30_000, 200);
      const heardBefore = heard.length;
      const roundsBefore = rounds.length;
      await setPassword(a, pathOf(2), 'after-restart');
      await syncOk(a, 1);
      // The stream held on process 1 across the restart hears the push made through process 2 (LISTEN re-established).
      await until('the stream on process 1 to hear a push after the restart', () => heard.length > heardBefore, 15_000);
      await until('the watcher to take in a change after the restart', () => rounds.slice(roundsBefore).some((r) => r.applied > 0), 15_000);
      // A stream opened on process 1 after the restart hears the next push too.
      const fresh: number[] = [];
      const second = await (await teamClient(a, 0)).openSyncStream((await onDesktop(a, (s) => settle(s.replica.vaultId()))), (seq) => fresh.push(seq));
      try {
        await until('the new stream to say where the vault stands', () => fresh.length >= 1);
        await setPassword(a, pathOf(3), 'after-restart-2');
        await syncOk(a, 1);
        await until('the new stream to hear the next push', () => fresh.length >= 2, 15_000);
      } finally {
        second.close();
      }
    } finally {
      stream?.close();
    }
    expect(await watcher.stop(), watcher.stderr()).toBe(0);
    await syncOk(b, 0);
    await syncOk(a, 1);
    const onA = await seen(a);
    expect(await seen(b)).toEqual(onA);
    expect(onA.find((e) => e.path === pathOf(2))?.password).toBe('after-restart');
    expect(onA.find((e) => e.path === pathOf(1))?.password).toBe('while-down');
    expect(onA.find((e) => e.path === pathOf(7))?.password).toBe('in-flight'); // cut, then sent again
  }, 180_000);

  it.skipIf(OUTSIDE_DATABASE)('catches up the streams of a process whose LISTEN connection was cut while pushes went on through the other', async () => {
    await running(0);
    const vault = await onDesktop(a, (s) => settle(s.replica.vaultId()));
    const heard: number[] = [];
    const stream = await (await teamClient(b, 0)).openSyncStream(vault, (seq) => heard.push(seq));
    const name = new URL(databaseUrl).pathname.slice(1);
    // As the cluster's administrator, from another database: no new connection to this one for a while, and every LISTEN connection on it cut.
    const admin = new pg.Client({ connectionString: Object.assign(new URL(databaseUrl), { pathname: '/postgres' }).toString() });
    await admin.connect();
    try {
      await until('the stream to say where the vault stands', () => heard.length >= 1);
      await syncOk(a, 1); // process 2's pool holds a connection it can push on
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      const cut = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'", [name]);
      expect(cut.rows.length).toBeGreaterThanOrEqual(2); // one per server process
      await setPassword(a, pathOf(11), 'while-nobody-listened');
      const pushed = await syncOk(a, 1);
      expect(pushed.pushed).toBeGreaterThan(0);
      const before = heard.length;
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      const top = await onDatabase(async (db) => Number((await db.query<{ seq: string }>('SELECT seq FROM sync_vaults WHERE vault_id = $1', [vault])).rows[0]?.seq));
      // Nothing will notify again: only a catch-up once listening again can tell the stream.
      await until('the stream on process 1 to be told of the push made while it did not listen', () => heard.length > before && heard.at(-1) === top, 20_000);
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => undefined);
      await admin.end();
      stream.close();
    }
  }, 60_000);

  it('converges a desktop edited while cut off from its server: both versions of a doubly-edited entry kept, HOTP counters at the highest', async () => {
    await running(0);
    await syncOk(a, 1);
    await syncOk(b, 0);
    // B's server goes away; B works on.
    await server(0).kill('SIGKILL');
    const vpn = parseOtpUri(HOTP).params;
    const takeCode = async (desktop: Desktop): Promise<string[]> => onDesktop(desktop, async (s) => {
      const entry = await settle(s.resolvePath('Acme/VPN'));
      return [(await settle(s.otpCode(entry.id))).code];
    });
    await setPassword(b, pathOf(4), 'offline-b');
    await setPassword(b, pathOf(5), 'offline-b-only');
    const usedOnB = [...await takeCode(b), ...await takeCode(b)];
    const beforeFailure = await seen(b);
    // What B has to send (its entries and customers; looking at them adds audit events of its own).
    const waiting = (): Promise<string[]> => onDesktop(b, async (s) => (await settle(s.replica.outgoing())).batch.records
      .flatMap((r) => (r.kind === 'entry' || r.kind === 'customer' ? [`${r.id}@${r.revision}`] : [])).sort());
    const waitingBefore = await waiting();
    expect(waitingBefore).toHaveLength(3);
    const offline = await sync(b, 0);
    expect(offline.code).toBe('SERVER_UNREACHABLE');
    expect(await seen(b)).toEqual(beforeFailure);
    expect(await waiting()).toEqual(waitingBefore);

    // A, online through process 2, edits one of the same entries, another one, and takes one HOTP code.
    await setPassword(a, pathOf(4), 'online-a');
    await setPassword(a, pathOf(6), 'online-a-only');
    const usedOnA = await takeCode(a);
    await syncOk(a, 1);

    // B comes back.
    await startProcess(0);
    const back = await syncOk(b, 0);
    expect(back.conflictCopies).toBe(1);
    expect(back.countersMerged).toBeGreaterThanOrEqual(1);
    await syncOk(a, 1);
    const onA = await seen(a);
    expect(await seen(b)).toEqual(onA);
    const byPath = new Map(onA.map((e) => [e.path, e.password]));
    // A's reached the server first: it keeps the entry's place, and B's own becomes the copy.
    expect(byPath.get(pathOf(4))).toBe('online-a');
    expect(byPath.get(`${pathOf(4)} (conflict copy)`)).toBe('offline-b');
    expect(byPath.get(pathOf(5))).toBe('offline-b-only');
    expect(byPath.get(pathOf(6))).toBe('online-a-only');
    expect(onA.filter((e) => e.path.endsWith('(conflict copy)'))).toHaveLength(1);
    // Counter 5: A took one (→6), B two (→7): both go on from 7, and no used code is shown again.
    const expected = hotpCode({ ...vpn, kind: 'hotp', counter: 7 }).code;
    const nextA = await takeCode(a);
    const nextB = await takeCode(b);
    expect(nextA).toEqual([expected]);
    expect(nextB).toEqual([expected]);
    for (const used of [...usedOnA, ...usedOnB]) expect(nextA).not.toContain(used);
  }, 120_000);

  it('brings a watching desktop back when its server process is killed (-9): its stream reopens and it takes in what was pushed through the other meanwhile', async () => {
    await running(0);
    const watcher = startWatcher(b, 0);
    try {
      await until('the watcher\'s first round', () => watcher.rounds.length >= 1);
      await server(0).kill('SIGKILL');
      await setPassword(a, pathOf(10), 'while-process-1-was-gone');
      await syncOk(a, 1);
      await startProcess(0);
      // Its stream broke with the process; it opens it again (every 5 s) and the number it hears is past what it holds.
      // Before the watcher's own 30 s round could have come: the stream is what brought it.
      const left = 29_000 - (performance.now() - watcher.startedAt);
      await until('the watcher to take in the change after its process came back', () => watcher.rounds.slice(1).some((r) => r.applied > 0), left);
    } finally {
      expect(await watcher.stop(), watcher.stderr()).toBe(0);
    }
    expect((await seen(b)).find((e) => e.path === pathOf(10))?.password).toBe('while-process-1-was-gone');
  }, 60_000);

  it('moves a vault onto the server when the move\'s reply was lost and its process killed: the move is not done twice, and a copy of the vault converges', async () => {
    await running(0);
    // Desktop C: another vault of the same owner, and D, a copy of it, made before the move.
    const desktop = (name: string): Desktop => ({
      name, file: path.join(home, `desktop-${name}.crewvault`), keychain: `crewvault-faults-${name}`,
      env: { CREWVAULT_CONFIG: path.join(home, `config-${name}`), CREWVAULT_KEYCHAIN_SERVICE: `crewvault-faults-${name}` },
    });
    const c = desktop('c');
    const d = desktop('d');
    relayed.add(c);
    const made = await createVault(c.file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
    await settle(made.createEntries(Array.from({ length: 40 }, (_, i) => ({ customer: `Moved ${i % 4}`, title: `Entry ${i}`, password: `moved-${i}` }))));
    await settle(made.close());
    await copyAsNewDesktop(c.file, d.file, clock);
    for (const each of [c, d]) await onDesktop(each, (s) => settle(s.replica.agreeAll()));
    await cli(c, ['login', urlOf(c, 0), '--user', 'alice'], [SERVER_PASSWORD]);
    await cli(c, ['login', urlOf(c, 1), '--user', 'alice'], [SERVER_PASSWORD]);
    await cli(d, ['login', urlOf(d, 1), '--user', 'alice'], [SERVER_PASSWORD]);

    const victim = server(0);
    const commits = await listenForCommits();
    const cut = relay.cutReplyOf('POST /v1/sync/push ', 1);
    const killed = cut.sent.then(() => commits.waitFor(1, 30_000)).then(async () => {
      await victim.kill('SIGKILL');
      cut.release();
    }).finally(() => commits.stop());
    const moving = await sync(c, 0, '--move');
    await killed;
    expect(moving.code).toBe('SERVER_UNREACHABLE');
    // The person runs the same command again, through the other process: the vault is there already.
    const again = await sync(c, 1, '--move');
    expect(again.code, again.stderr).toBe('ok');
    expect(again.report?.conflictCopies).toBe(0);
    await syncOk(d, 1);
    const onC = await seen(c);
    expect(onC).toHaveLength(40);
    expect(await seen(d)).toEqual(onC);
    // A move over versions that are not this replica's own is still refused (here: D's newer edit).
    await setPassword(d, 'Moved 0/Entry 0', 'changed-on-d');
    await syncOk(d, 1);
    const stale = await sync(c, 1, '--move');
    expect(stale.code).toBe('CONFLICT');
    await syncOk(c, 1);
    expect((await seen(c)).find((e) => e.path === 'Moved 0/Entry 0')?.password).toBe('changed-on-d');
  }, 120_000);

  it('fans a burst of pushes through both processes out to every stream held on either, each commit heard once and in order', async () => {
    await running(0);
    // A vault of its own, filled with records as a desktop would push them, signed (the server opens none).
    const vault = randomBytes(16).toString('hex');
    const author = randomUUID();
    const pushers = await Promise.all(([1, 1, 0, 1] as const).map((index) => teamClient(a, index)));
    const fake = (): EntryRecord => {
      const someone = randomUUID();
      const b64 = (text: string): string => Buffer.from(text).toString('base64url');
      return {
        kind: 'entry', id: randomUUID(), revision: 1, base: 0, customer: someone, group: someone, keyVersion: 1, lookup: b64('l'), sealedSummary: b64('s'),
        sealedDetails: b64('d'), createdAt: 1, updatedAt: 1, deletedAt: null, author, signerKey: author, signature: b64('sig'),
      };
    };
    const first = pushers[0];
    if (!first) throw new Error('no pusher');
    await first.call('syncPush', { batch: signedBatch(vault, [fake()]) });
    // Three streams on process 1, two on process 2; each notes when it heard each number.
    const listeners = await Promise.all(([0, 0, 0, 1, 1] as const).map(async (index) => {
      const seqs: number[] = [];
      const at = new Map<number, number>();
      const stream = await (await teamClient(b, index)).openSyncStream(vault, (seq) => {
        seqs.push(seq);
        at.set(seq, performance.now());
      });
      return { seqs, at, stream };
    }));
    try {
      await until('every stream to say where the vault stands', () => listeners.every((l) => l.seqs.length >= 1));
      const PUSHES = 120;
      let next = 0;
      const acks: number[] = [];
      const ackedAt = new Map<number, number>();
      const startedAt = performance.now();
      await Promise.all(pushers.map(async (client) => {
        while (next < PUSHES) {
          next++;
          const stored = await client.call('syncPush', { batch: signedBatch(vault, [fake(), fake()]) });
          expect(stored.accepted).toBe(2);
          acks.push(stored.seq);
          ackedAt.set(stored.seq, performance.now());
        }
      }));
      const finalSeq = 1 + 2 * PUSHES;
      expect(Math.max(...acks)).toBe(finalSeq);
      await until('every stream to hear the last push', () => listeners.every((l) => l.seqs.at(-1) === finalSeq), 20_000);
      const heardAllMs = performance.now() - startedAt;
      const stored = new Set(acks);
      for (const { seqs } of listeners) {
        // Once where it stood, then where each commit left it, once and in order: pushes that went
        // together in one transaction (server/sync/push-batch.ts) are told by its last, and none is
        // skipped (the last push's is heard).
        expect(seqs[0]).toBe(1);
        expect(seqs.slice(1).every((seq, i) => seq > (seqs[i] ?? 0) && stored.has(seq))).toBe(true);
      }
      // From a push's reply to the last stream hearing it or a later sequence (a stream may hear before the pusher's reply arrives).
      const heardAt = (l: (typeof listeners)[number], seq: number): number => l.at.get(l.seqs.find((s) => s >= seq) ?? Number.NaN) ?? Infinity;
      const lags = acks.map((seq) => Math.max(0, ...listeners.map((l) => heardAt(l, seq) - (ackedAt.get(seq) ?? 0)))).sort((x, y) => x - y);
      const pct = (p: number): number => Math.round(lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] ?? NaN);
      console.log(`fan-out: ${PUSHES} pushes (3 of 4 pushers on process 2, 1 on process 1) heard by 3 streams on process 1 and 2 on process 2, all in ${Math.round(heardAllMs)} ms; reply to last stream p50 ${pct(0.5)} ms, p95 ${pct(0.95)} ms`);
    } finally {
      for (const { stream } of listeners) stream.close();
    }
  }, 120_000);
});
