/**
 * The rows of `npm run bench:sync` (issue 15) that need a team server as an administrator runs
 * it: two `crewvault server` processes (the built CLI, child processes: server-process.ts) on
 * one private PostgreSQL cluster (test/support/postgres.ts), all on loopback.
 * - An edit on desktop A held by desktop B (B holding the sync stream open), first with both on
 *   server process 1, then with A on process 1 and B on process 2 (PostgreSQL's NOTIFY between them).
 * - A thousand desktops' sync streams held by server process 2: its RSS before and after, and a
 *   push made through process 1 reaching every one of them (the time for the last one to hear it).
 *   The server holds at most MAX_STREAMS_PER_SESSION a session and MAX_STREAMS_PER_ACCOUNT an
 *   account (server/sync/stream.ts), so they are spread over as many technicians' sessions as that
 *   takes: each technician invited and signed in for real, made a person of the vault straight in
 *   the database (set-up, not timed: as sync-codes.ts does; this row measures streams, not how
 *   membership travels).
 * - Entry writes from a load generator in a process of its own (sync-writer.ts): real entry
 *   records, sealed and signed by their sender, one a push, several pushes in flight, bounded in
 *   count and time; writes per second, latency p50/p99, and the server's and PostgreSQL's CPU a write.
 * The desktops are real vault files with the real desktop code (electron/team/sync.ts), in this
 * process. Returns table rows, never pass/fail; stops every process it started and removes
 * its cluster, on the way out too.
 * Must never: put a password on a command line (the database's goes in PGPASSWORD, the
 * writer's over its IPC channel).
 */
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { parseOtpUri } from '../../shared/otp';
import { TeamClient } from '../../electron/team/client';
import { syncOnce } from '../../electron/team/sync';
import type { EventStream } from '../../electron/team/transport';
import { MIN_KDF } from '../../electron/vault/crypto';
import type { VaultSession } from '../../electron/vault/service';
import { createVault, Vault } from '../../electron/vault/vault';
import { openPostgres } from '../../server/store/db';
import { putPerson } from '../../server/store/membership';
import { MAX_STREAMS_PER_ACCOUNT, MAX_STREAMS_PER_SESSION } from '../../server/sync/stream';
import { TestClient } from '../server/support';
import { startTestPostgres, type TestPostgres } from '../support/postgres';
import { copyAsNewDesktop } from '../support/replica';
import { benchEntries } from './dataset';
import { formatMiB, formatMs, nowMs, percentile } from './measure';
import { parentOf, processCpuMs, processTreeCpuMs, rssKiB } from './proc';
import { startBenchServer, type BenchServer } from './server-process';
import type { WriterReport, WriterTask } from './sync-writer';
import { formatRate, type Row } from './table';

export interface ClusterSizes {
  /** Entries in the team vault of these rows (the edit rounds and streams need few). */
  readonly entries: number;
  readonly rounds: number;
  readonly writes: number;
  readonly writeSeconds: number;
  readonly writers: number;
  readonly streams: number;
  /** Only the entry-writes rows (no edit rounds, no streams): the `writes` part of the bench. */
  readonly writesOnly: boolean;
}

const OWNER = 'bench-owner';
const PASSWORD = 'bench vault password 1';
const SERVER_PASSWORD = 'bench server password 1';
/** How long the last stream may take to hear a push before the row says some missed it. */
const HEAR_DEADLINE_MS = 30_000;
/** Streams opened at once (each is a request the server authenticates). */
const OPENING = 50;

function progress(text: string): void {
  process.stderr.write(`  [sync bench] ${text}\n`);
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

async function signedIn(file: string): Promise<VaultSession> {
  return Vault.open(file).signIn(OWNER, PASSWORD);
}

/**
 * `rounds` edits on A, each pushed through `clientA` and timed until B — holding the sync
 * stream open through `clientB` and pulling through it when the stream moves — has taken it in.
 */
export async function editRounds(a: VaultSession, clientA: TeamClient, b: VaultSession, clientB: TeamClient, rounds: number, entryId: number): Promise<number[]> {
  let waiting: (() => void) | undefined;
  let running = Promise.resolve();
  let failure: Error | undefined;
  const stream = await clientB.openSyncStream(await b.replica.vaultId(), (seq) => {
    running = running.then(async () => {
      if (seq <= (await b.replica.pulledUpTo())) return;
      const outcome = await syncOnce(clientB, b.replica);
      if (outcome.applied > 0) waiting?.();
    }).catch((error: unknown) => {
      failure ??= error instanceof Error ? error : new Error('B\'s sync failed');
      waiting?.();
    });
  });
  const latencies: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const current = await a.getEntry(entryId);
      await a.updateEntry(entryId, { notes: `round ${round}` }, current.revision);
      const seen = new Promise<void>((resolve) => { waiting = resolve; });
      const start = nowMs();
      await syncOnce(clientA, a.replica);
      await seen;
      if (failure !== undefined) throw failure;
      latencies.push(nowMs() - start);
    }
  } finally {
    stream.close();
    await running;
  }
  return latencies;
}

/** The cluster's postmaster (its CPU is the database's), when its processes can be read here. */
async function postmasterOf(databaseUrl: string): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const postmaster = rows[0] === undefined ? undefined : parentOf(rows[0].pid);
    return postmaster !== undefined && Number.isFinite(processTreeCpuMs(postmaster)) ? postmaster : undefined;
  } finally {
    await client.end();
  }
}

interface StreamsResult {
  readonly opened: number;
  readonly rssBeforeKiB: number | null;
  readonly rssAfterKiB: number | null;
  readonly heardMs: readonly number[];
  readonly missed: number;
}

/**
 * Sessions enough to hold `n` streams within the server's bounds: technicians invited by the owner
 * (`owner`), registered and made people of `vault` (straight in the database), each signed in
 * MAX_STREAMS_PER_ACCOUNT / MAX_STREAMS_PER_SESSION times on devices of their own; the clients in
 * order, a technician's sessions one after another.
 */
async function streamSessions(server: BenchServer, databaseUrl: string, owner: TeamClient, vault: string, n: number): Promise<TeamClient[]> {
  const sessionsEach = MAX_STREAMS_PER_ACCOUNT / MAX_STREAMS_PER_SESSION;
  const accounts = Math.ceil(n / MAX_STREAMS_PER_ACCOUNT);
  const people: Array<{ id: string; username: string; password: string }> = [];
  for (let i = 0; i < accounts; i += 8) {
    people.push(...await Promise.all(Array.from({ length: Math.min(8, accounts - i) }, async (_, j) => {
      const username = `bench-streams-${i + j}`;
      const password = `pw-${randomBytes(12).toString('base64url')}`;
      const { invite } = await owner.call('inviteCreate', { username, role: 'member' });
      const { user } = await new TestClient(server.url).register(invite, username, password);
      return { id: user.id, username, password };
    })));
  }
  const db = openPostgres(databaseUrl, { maxConnections: 2 });
  try {
    await db.transaction(async (tx) => {
      for (const person of people) await putPerson(tx, vault, { vaultUser: randomUUID(), accountId: person.id, role: 'technician', disabled: false });
    });
  } finally {
    await db.close();
  }
  const clients: TeamClient[] = [];
  for (const person of people) {
    clients.push(...await Promise.all(Array.from({ length: sessionsEach }, async () => {
      const signedIn = new TestClient(server.url);
      await signedIn.login(person.username, person.password);
      const client = new TeamClient(new URL(server.url), { kind: 'loopback' }, signedIn.deviceId);
      client.tokens = signedIn.tokens;
      client.serverKey = owner.serverKey;
      return client;
    })));
  }
  return clients;
}

/**
 * `n` sync streams held open on `server` (as many connections as desktops: each its own socket,
 * request and subscription, MAX_STREAMS_PER_SESSION to each of `sessions` in turn), then one edit
 * on A pushed through `clientA`, timed from the push until each stream has heard the new sequence.
 */
async function holdStreams(server: BenchServer, sessions: readonly TeamClient[], vault: string, n: number, a: VaultSession, clientA: TeamClient, entryId: number): Promise<StreamsResult> {
  const rssBeforeKiB = rssKiB(server.pid);
  const streams: EventStream[] = [];
  const firstSeq: number[] = Array.from({ length: n }, () => -1);
  let pushStart = Number.POSITIVE_INFINITY;
  let before = Number.POSITIVE_INFINITY;
  const heardAt: Array<number | undefined> = Array.from({ length: n }, () => undefined);
  let heard = 0;
  let allHeard: (() => void) | undefined;
  try {
    for (let i = 0; i < n; i += OPENING) {
      const opening = Array.from({ length: Math.min(OPENING, n - i) }, (_, j) => i + j).map(async (k) => {
        const client = sessions[Math.floor(k / MAX_STREAMS_PER_SESSION)];
        if (client === undefined) throw new Error(`no session for stream ${k}`);
        streams.push(await client.openSyncStream(vault, (seq) => {
          if (firstSeq[k] === -1) firstSeq[k] = seq;
          if (seq > before && heardAt[k] === undefined) {
            heardAt[k] = nowMs() - pushStart;
            heard++;
            if (heard === n) allHeard?.();
          }
        }));
      });
      await Promise.all(opening);
    }
    // Every stream has said where the vault stands before the push.
    const deadline = nowMs() + HEAR_DEADLINE_MS;
    while (firstSeq.some((s) => s === -1) && nowMs() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const rssAfterKiB = rssKiB(server.pid);
    before = Math.max(...firstSeq);
    const current = await a.getEntry(entryId);
    await a.updateEntry(entryId, { notes: 'heard by every stream' }, current.revision);
    const everyone = new Promise<void>((resolve) => { allHeard = resolve; });
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, HEAR_DEADLINE_MS).unref());
    pushStart = nowMs();
    await syncOnce(clientA, a.replica);
    await Promise.race([everyone, timeout]);
    const heardMs = heardAt.filter((ms): ms is number => ms !== undefined);
    return { opened: streams.length, rssBeforeKiB, rssAfterKiB, heardMs, missed: n - heardMs.length };
  } finally {
    for (const stream of streams) stream.close();
  }
}

interface WriteResult {
  readonly report: Extract<WriterReport, { kind: 'done' }>;
  readonly serverCpuMs: number;
  readonly databaseCpuMs: number;
}

/** Runs the load generator (sync-writer.ts) as a process of its own on a copy of desktop A's file. */
async function runWriter(task: WriterTask, server: BenchServer, postmaster: number | undefined): Promise<WriteResult> {
  const entry = process.argv[1];
  if (entry === undefined) throw new Error('no bench file to fork the writer from');
  const child = fork(entry, ['--sync-writer'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const kill = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', kill);
  try {
    let cpu0 = { server: 0, database: 0 };
    const report = await new Promise<Extract<WriterReport, { kind: 'done' }>>((resolve, reject) => {
      child.on('message', (message: WriterReport) => {
        if (message.kind === 'ready') {
          progress(`${count(message.prepared)} entry records ready; pushing, ${task.writers} at a time`);
          cpu0 = { server: processCpuMs(server.pid), database: postmaster === undefined ? Number.NaN : processTreeCpuMs(postmaster) };
          child.send('go');
        } else if (message.kind === 'done') resolve(message);
        else reject(new Error(`the load generator failed: ${message.message}`));
      });
      child.once('exit', (code, signal) => reject(new Error(`the load generator exited (${code ?? signal ?? '?'}) before reporting`)));
      child.send(task);
    });
    return {
      report,
      serverCpuMs: processCpuMs(server.pid) - cpu0.server,
      databaseCpuMs: postmaster === undefined ? Number.NaN : processTreeCpuMs(postmaster) - cpu0.database,
    };
  } finally {
    process.removeListener('exit', kill);
    kill();
  }
}

export async function benchCluster(home: string, sizes: ClusterSizes): Promise<Row[]> {
  let cluster: TestPostgres | undefined;
  const servers: BenchServer[] = [];
  try {
    progress('PostgreSQL and two crewvault server processes');
    cluster = await startTestPostgres();
    const databaseUrl = await cluster.createDatabase();
    const postmaster = await postmasterOf(databaseUrl);
    const dataDir = path.join(home, 'cluster-server');
    const one = await startBenchServer(dataDir, databaseUrl, 'server-1.log');
    servers.push(one);
    const two = await startBenchServer(dataDir, databaseUrl, 'server-2.log');
    servers.push(two);

    progress(`a ${count(sizes.entries)}-entry team vault on desktops A and B`);
    const fileA = path.join(home, 'cluster-a.crewvault');
    const fileB = path.join(home, 'cluster-b.crewvault');
    const fileC = path.join(home, 'cluster-load.crewvault');
    await (await createVault(fileA, { owner: OWNER, password: PASSWORD, kdf: { ...MIN_KDF } })).close();
    await copyAsNewDesktop(fileA, fileB);
    let a = await signedIn(fileA);
    const b = await signedIn(fileB);
    await a.replica.agreeAll();
    await b.replica.agreeAll();
    const entries = benchEntries(sizes.entries, 0xc1a5);
    await a.createEntries(entries.map((e) => {
      const otp = e.otpUri ? parseOtpUri(e.otpUri) : null;
      return { customer: e.customer, title: e.title, username: e.username, password: e.password, url: e.url, notes: e.notes, otp: otp ? { params: otp.params } : null };
    }));
    const invite = readFileSync(one.ownerInviteFile, 'utf8').trim();
    const clientA = new TeamClient(new URL(one.url), { kind: 'loopback' }, 'bench-cluster-a-0001');
    await clientA.register(invite, OWNER, SERVER_PASSWORD, undefined);
    await clientA.login(OWNER, SERVER_PASSWORD);
    const clientB1 = new TeamClient(new URL(one.url), { kind: 'loopback' }, 'bench-cluster-b-0001');
    await clientB1.login(OWNER, SERVER_PASSWORD);
    // The same session through process 2: sessions live in the database both processes share.
    const clientB2 = new TeamClient(new URL(two.url), { kind: 'loopback' }, clientB1.deviceId);
    clientB2.tokens = clientB1.tokens;
    clientB2.serverKey = clientB1.serverKey; // the server's identity, as a kept session carries it (a vault syncs with one server)
    await syncOnce(clientA, a.replica, { move: true });
    await syncOnce(clientB2, b.replica);
    const first = entries[0];
    const target = (await a.resolvePath(`${first?.customer ?? ''}/${first?.title ?? ''}`)).id;

    let sameProcess: number[] = [];
    let crossProcess: number[] = [];
    let streams: StreamsResult | undefined;
    if (!sizes.writesOnly) {
      progress(`${sizes.rounds} edits on A, each until B holds it: both on server process 1`);
      sameProcess = await editRounds(a, clientA, b, clientB1, sizes.rounds, target);
      progress(`${sizes.rounds} edits on A (process 1), each until B (process 2) holds it`);
      crossProcess = await editRounds(a, clientA, b, clientB2, sizes.rounds, target);

      const accounts = Math.ceil(sizes.streams / MAX_STREAMS_PER_ACCOUNT);
      progress(`${count(accounts)} technicians of the vault, ${count(Math.ceil(sizes.streams / MAX_STREAMS_PER_SESSION))} sessions between them`);
      const sessions = await streamSessions(two, databaseUrl, clientA, await a.replica.vaultId(), sizes.streams);
      progress(`${count(sizes.streams)} sync streams held by server process 2; a push through process 1`);
      streams = await holdStreams(two, sessions, await a.replica.vaultId(), sizes.streams, a, clientA, target);
    }

    progress(`entry writes from a load generator process (${count(sizes.writes)} at most, ${sizes.writeSeconds} s at most)`);
    await a.close();
    await copyAsNewDesktop(fileA, fileC);
    a = await signedIn(fileA);
    const writes = await runWriter({
      kind: 'write', file: fileC, owner: OWNER, vaultPassword: PASSWORD, serverPassword: SERVER_PASSWORD, url: one.url,
      writes: sizes.writes, seconds: sizes.writeSeconds, writers: sizes.writers,
    }, one, postmaster);
    await a.close();
    await b.close();

    const r = writes.report;
    const perWrite = (ms: number): string => (r.done === 0 || !Number.isFinite(ms) ? 'n/a' : formatMs(ms / r.done));
    const header: Row = { measure: 'PostgreSQL, two crewvault server processes', value: '', beside: `team vault of ${count(sizes.entries)} entries; A, B and the streams in this process, the servers and the load generator in their own` };
    const writeRows: Row[] = [
      { measure: 'entry writes, sustained', value: `${formatRate((r.done / r.wallMs) * 1000)}/s`, beside: `goal ≥ 500/s; ${count(r.done)} pushes of one signed entry record in ${(r.wallMs / 1000).toFixed(1)} s, ${sizes.writers} in flight, load generator in its own process` },
      { measure: '  write latency p50', value: formatMs(percentile(r.latencies, 50)), beside: 'push sent → reply parsed, as the load generator saw it' },
      { measure: '  write latency p99', value: formatMs(percentile(r.latencies, 99)), beside: 'goal < 50 ms' },
      { measure: '  failed writes', value: count(r.failed), beside: r.firstFailure ?? '' },
      { measure: '  server CPU per write', value: perWrite(writes.serverCpuMs), beside: `process 1, user + system (/proc); ${(writes.serverCpuMs / r.wallMs).toFixed(2)} cores in use` },
      { measure: '  PostgreSQL CPU per write', value: perWrite(writes.databaseCpuMs), beside: 'the cluster\'s processes (postmaster and backends)' },
      { measure: '  load generator CPU per write', value: perWrite(r.cpuMs), beside: 'HTTP and parsing on the same cores' },
    ];
    if (streams === undefined) return [header, ...writeRows];
    const streamRss = streams.rssAfterKiB !== null && streams.rssBeforeKiB !== null ? (streams.rssAfterKiB - streams.rssBeforeKiB) / Math.max(1, streams.opened) : null;
    return [
      header,
      { measure: 'an edit on A held by B, one server process, p50', value: formatMs(percentile(sameProcess, 50)), beside: `${sizes.rounds} rounds; both desktops on process 1` },
      { measure: 'an edit on A held by B, one server process, p95', value: formatMs(percentile(sameProcess, 95)), beside: 'goal < 250 ms' },
      { measure: 'an edit on A held by B, two server processes, p50', value: formatMs(percentile(crossProcess, 50)), beside: 'A pushes through process 1; B holds its stream and pulls on process 2' },
      { measure: 'an edit on A held by B, two server processes, p95', value: formatMs(percentile(crossProcess, 95)), beside: 'goal < 500 ms' },
      ...writeRows,
      { measure: 'sync streams held by server process 2', value: count(streams.opened), beside: `goal 1,000 connected desktops a process (${MAX_STREAMS_PER_SESSION} a session, ${MAX_STREAMS_PER_ACCOUNT} an account: ${count(Math.ceil(streams.opened / MAX_STREAMS_PER_ACCOUNT))} technicians)` },
      { measure: '  server RSS, idle → with the streams', value: `${formatMiB(streams.rssBeforeKiB)} → ${formatMiB(streams.rssAfterKiB)}`, beside: streamRss === null ? '' : `~${streamRss.toFixed(1)} KiB a stream` },
      { measure: '  a push through process 1 heard by every stream, last', value: formatMs(Math.max(...streams.heardMs)), beside: `p50 ${formatMs(percentile(streams.heardMs, 50))}; ${count(streams.missed)} missed within ${HEAR_DEADLINE_MS / 1000} s` },
    ];
  } finally {
    for (const server of servers) await server.stop();
    await cluster?.stop();
  }
}
