/**
 * `npm run bench:sync`'s server-computed codes row (issue 15; goal: ≥ 3,000 codes/s on 2 cores,
 * p99 < 20 ms). A `crewvault server` process (server-process.ts) on a private PostgreSQL, a team
 * vault of ENTRIES entries in one group set to "server computes codes" (their TOTP keys sealed
 * to the server's code key by the owner through POST /v1/codes/keys), and ACCOUNTS codes-only
 * members, each signed in on a device of their own. A load generator in a process of its own
 * (forked from the same built bench file with --codes-load) asks POST /v1/codes for random
 * entries as those members, IN_FLIGHT requests at once on keep-alive connections (or a new connection a
 * request, as a desktop's transport makes them: CREWVAULT_BENCH_CODES_CONNECTIONS=new), until TOTAL
 * codes or SECONDS have passed (bounded by both), and reports each request's latency (sent →
 * reply parsed): the most codes a second. Then, as another ACCOUNTS members, an open loop at PACE
 * codes a second for SECONDS: the latency at the goal's rate (each from its scheduled time). Every request is the whole path: session, membership, the sealed key, the rate
 * limit and the signed audit row, committed before the code is given. The members' budgets are
 * the server's defaults (server/codes/batch.ts): TOTAL stays under what ACCOUNTS may take.
 * The vault's people, group and entries are written straight into the server's database (set-up,
 * not timed): this row measures codes, not how membership travels.
 *
 * Must never: put a session token or a key in argv or the environment (they go over IPC), or run
 * on after its parent is gone.
 */
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { DEVICE_HEADER, SERVER_ROUTES } from '../../shared/api/server-contract';
import { encodeSecret } from '../../shared/otp';
import { MAX_SERVER_CODE_RECORDS } from '../../shared/sync/server-codes';
import { sealCodeKeyForServer, serverCodePublicKey } from '../../electron/team/server-codes';
import { DEFAULT_CODE_LIMITS } from '../../server/codes/batch';
import { openPostgres } from '../../server/store/db';
import { setServerCodeGroup } from '../../server/store/codes';
import { putGroup, putMembership, putPerson } from '../../server/store/membership';
import { createVault, putRecord } from '../../server/store/sync';
import { startTestPostgres, type TestPostgres } from '../support/postgres';
import { TestClient } from '../server/support';
import { formatMs, nowMs, percentile } from './measure';
import { parentOf, processCpuMs, processTreeCpuMs } from './proc';
import { startBenchServer, type BenchServer } from './server-process';
import { formatRate, type Row } from './table';

function knob(name: string, fallback: number): number {
  const value = Number(process.env[`CREWVAULT_BENCH_CODES_${name}`]);
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

const ENTRIES = knob('ENTRIES', 1_000);
const ACCOUNTS = knob('ACCOUNTS', 120);
const IN_FLIGHT = knob('IN_FLIGHT', 32);
const SECONDS = knob('SECONDS', 10);
/**
 * The open-loop run's rate, codes a second (the goal's 3,000/s): requests arrive as a Poisson process
 * at that rate (a fleet's desktops ask independently), each sent at its scheduled time whatever the
 * replies before it, and its latency counts from that time, so a stall delays
 * and counts every request due meanwhile (no coordinated omission). The closed loop above keeps
 * IN_FLIGHT requests waiting whatever the server's pace: it finds the most codes a second, and its
 * latency is IN_FLIGHT / that rate by Little's law, the queue a saturated server holds, not the
 * latency at a given rate. PACED_CAP bounds the requests out at once (beyond it they wait in the
 * generator, counted from their scheduled time).
 */
const PACE = knob('PACE', 3_000);
const PACED_CAP = knob('PACED_CAP', 256);
/**
 * `keep` (the default): each in-flight slot keeps its connection alive, as an automation token's
 * HTTP client may. `new`: a new connection a request, as the desktop's transport makes them
 * (electron/team/transport.ts: no agent, no TLS session reuse), so the server also pays an accept a code.
 */
const CONNECTIONS: 'keep' | 'new' = process.env.CREWVAULT_BENCH_CODES_CONNECTIONS === 'new' ? 'new' : 'keep';
/** At most 90% of what the members may take in a minute, so the row measures codes given, not refusals. */
const TOTAL = Math.min(knob('TOTAL', 30_000), Math.floor(ACCOUNTS * DEFAULT_CODE_LIMITS.perMinute * 0.9));

function progress(text: string): void {
  process.stderr.write(`  [sync bench] ${text}\n`);
}

/** What the bench sends the load generator (over IPC). */
interface LoadTask {
  readonly kind: 'codes';
  readonly url: string;
  readonly vault: string;
  readonly entries: readonly string[];
  readonly sessions: ReadonlyArray<{ readonly accessToken: string; readonly deviceId: string }>;
  readonly total: number;
  readonly seconds: number;
  readonly inFlight: number;
  /** Codes a second, open loop (at most inFlight out at once); absent: a closed loop of inFlight requests. */
  readonly pace?: number;
  /** `codes`: POST /v1/codes; `session`: GET /v1/session, the same sessions' authentication alone (what every route pays). */
  readonly route: 'codes' | 'session';
  readonly connections: 'keep' | 'new';
}

type LoadReport =
  | { readonly kind: 'done'; readonly ok: number; readonly failed: number; readonly firstFailure: string | undefined; readonly wallMs: number; readonly latencies: readonly number[]; readonly cpuMs: number; readonly mostOut: number; readonly sent: number }
  | { readonly kind: 'error'; readonly message: string };

/** The load generator's side: run when the bench file is started with --codes-load. */
export async function runCodesLoadProcess(): Promise<void> {
  process.on('disconnect', () => process.exit(0));
  const task = await new Promise<LoadTask>((resolve) => process.once('message', (message: LoadTask) => resolve(message)));
  try {
    const url = new URL(task.url);
    const agent = task.connections === 'keep' ? new http.Agent({ keepAlive: true, maxSockets: task.inFlight }) : undefined;
    const latencies: number[] = [];
    let ok = 0;
    let failed = 0;
    let firstFailure: string | undefined;
    let sent = 0;
    let out = 0;
    let mostOut = 0;
    const cpu0 = process.cpuUsage();
    const started = nowMs();
    const deadline = started + task.seconds * 1000;
    /** Request i; its latency counts from `due` (the open loop's scheduled time) or from its sending. */
    const one = (i: number, due?: number): Promise<void> => new Promise((resolve) => {
      const session = task.sessions[i % task.sessions.length];
      const entry = task.entries[Math.floor(Math.random() * task.entries.length)];
      if (session === undefined || entry === undefined) {
        resolve();
        return;
      }
      const body = task.route === 'codes' ? JSON.stringify({ vault: task.vault, entry }) : undefined;
      const auth = { authorization: `Bearer ${session.accessToken}`, [DEVICE_HEADER]: session.deviceId };
      const t0 = due ?? nowMs();
      mostOut = Math.max(mostOut, ++out);
      const request = http.request({
        host: url.hostname, port: url.port, path: SERVER_ROUTES[task.route].path, method: SERVER_ROUTES[task.route].method, agent: agent ?? false,
        headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const reply = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { ok: boolean; error?: { code: string } };
          latencies.push(nowMs() - t0);
          out--;
          if (reply.ok) ok++;
          else {
            failed++;
            firstFailure ??= reply.error?.code ?? `HTTP ${response.statusCode ?? '?'}`;
          }
          resolve();
        });
      });
      request.on('error', (error) => {
        out--;
        failed++;
        firstFailure ??= error.message;
        resolve();
      });
      if (body === undefined) request.end();
      else request.end(body);
    });
    const worker = async (): Promise<void> => {
      while (sent < task.total && nowMs() < deadline) await one(sent++);
    };
    const pace = task.pace;
    if (pace === undefined) await Promise.all(Array.from({ length: task.inFlight }, () => worker()));
    else {
      const total = Math.min(task.total, Math.floor(pace * task.seconds));
      const pending: Array<Promise<void>> = [];
      // Arrivals as a fleet makes them: each desktop asks when its screen needs a code, independently of the others, so
      // the gaps are exponential (a Poisson process at `pace`), burstier than evenly spaced asks.
      let nextDue = started;
      const dueOf = (): number => {
        const due = nextDue;
        nextDue += (-Math.log(1 - Math.random()) * 1000) / pace;
        return due;
      };
      let due = dueOf();
      // Every millisecond, send what is due (up to inFlight out at once; the rest keep their due time and go as replies free room).
      const giveUp = deadline + task.seconds * 1000; // a server far behind: what is not sent by then is reported as not sent
      while (sent < total && nowMs() < giveUp) {
        const now = nowMs();
        while (sent < total && due <= now && out < task.inFlight) {
          pending.push(one(sent++, due));
          due = dueOf();
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      await Promise.all(pending);
    }
    const wallMs = nowMs() - started;
    const cpu = process.cpuUsage(cpu0);
    agent?.destroy();
    await report({ kind: 'done', ok, failed, firstFailure, wallMs, latencies, cpuMs: (cpu.user + cpu.system) / 1000, mostOut, sent });
  } catch (error) {
    await report({ kind: 'error', message: error instanceof Error ? error.message : 'the load generator failed' });
  }
  process.disconnect();
}

/** Sends the report and waits until it is handed over (a disconnect right after a large send would drop it). */
function report(message: LoadReport): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

async function runLoad(task: LoadTask, server: BenchServer, postmaster: number | undefined): Promise<{ report: Extract<LoadReport, { kind: 'done' }>; serverCpuMs: number; databaseCpuMs: number }> {
  const entry = process.argv[1];
  if (entry === undefined) throw new Error('no bench file to fork the load generator from');
  const child = fork(entry, ['--codes-load'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const kill = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', kill);
  try {
    const cpu0 = { server: processCpuMs(server.pid), database: postmaster === undefined ? Number.NaN : processTreeCpuMs(postmaster) };
    const report = await new Promise<Extract<LoadReport, { kind: 'done' }>>((resolve, reject) => {
      child.on('message', (message: LoadReport) => {
        if (message.kind === 'done') resolve(message);
        else reject(new Error(`the load generator failed: ${message.message}`));
      });
      child.once('exit', (code, signal) => reject(new Error(`the load generator exited (${code ?? signal ?? '?'}) before reporting`)));
      child.send(task);
    });
    return { report, serverCpuMs: processCpuMs(server.pid) - cpu0.server, databaseCpuMs: postmaster === undefined ? Number.NaN : processTreeCpuMs(postmaster) - cpu0.database };
  } finally {
    process.removeListener('exit', kill);
    kill();
  }
}

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

/** The row: codes per second and latency of POST /v1/codes under load from another process. */
export async function benchServerCodes(home: string): Promise<Row[]> {
  let cluster: TestPostgres | undefined;
  let server: BenchServer | undefined;
  try {
    progress('server-computed codes: PostgreSQL and a crewvault server process');
    cluster = await startTestPostgres();
    const databaseUrl = await cluster.createDatabase();
    const postmaster = await postmasterOf(databaseUrl);
    server = await startBenchServer(path.join(home, 'codes-server'), databaseUrl, 'codes-server.log');
    const owner = new TestClient(server.url);
    const ownerName = 'bench-codes-owner';
    const ownerPassword = `pw-${randomBytes(12).toString('base64url')}`;
    const { user: ownerUser } = await owner.register(readFileSync(server.ownerInviteFile, 'utf8').trim(), ownerName, ownerPassword);
    await owner.login(ownerName, ownerPassword);

    // Two sets of ACCOUNTS: the closed loop's and the open loop's, each within its members' budgets a minute.
    progress(`${ACCOUNTS} codes-only members for each run, two runs, each signed in on a device of their own`);
    const members: Array<{ client: TestClient; id: string }> = [];
    for (let i = 0; i < 2 * ACCOUNTS; i += 8) {
      members.push(...await Promise.all(Array.from({ length: Math.min(8, 2 * ACCOUNTS - i) }, async (_, j) => {
        const username = `bench-codes-${i + j}`;
        const password = `pw-${randomBytes(12).toString('base64url')}`;
        const { invite } = await owner.ok('inviteCreate', { username, role: 'member' });
        const client = new TestClient(server?.url ?? '');
        const { user } = await client.register(invite, username, password);
        await client.login(username, password);
        return { client, id: user.id };
      })));
    }

    progress(`a team vault of ${ENTRIES.toLocaleString('en-US')} entries in one group set to "server computes codes"`);
    const vault = randomBytes(16).toString('hex');
    const group = randomUUID();
    const entries = Array.from({ length: ENTRIES }, () => randomUUID());
    const db = openPostgres(databaseUrl, { maxConnections: 2 });
    try {
      await db.transaction(async (tx) => {
        await createVault(tx, vault, ownerUser.id, Date.now());
        await putGroup(tx, vault, { groupId: group, keyVersion: 1, deleted: false });
        await setServerCodeGroup(tx, vault, group, true); // as the group's record says (schema 16)
        await putPerson(tx, vault, { vaultUser: randomUUID(), accountId: ownerUser.id, role: 'owner', disabled: false });
        for (const member of members) {
          const vaultUser = randomUUID();
          await putPerson(tx, vault, { vaultUser, accountId: member.id, role: 'codes_only', disabled: false });
          await putMembership(tx, vault, { groupId: group, vaultUser, keyVersion: 1, isLead: false, wrapped: 'AAAA' });
        }
        let seq = 0;
        for (const id of entries) {
          seq++;
          const body = { kind: 'entry', id, revision: 1, base: 0, group, keyVersion: 1, deletedAt: null };
          await putRecord(tx, vault, { id, kind: 'entry', revision: 1, seq, body: JSON.stringify(body) }, ownerUser.id);
        }
        await tx.query('UPDATE sync_vaults SET seq = $2 WHERE vault_id = $1', [vault, seq]);
      });
    } finally {
      await db.close();
    }
    const codeKey = serverCodePublicKey((await owner.ok('codesKey', undefined)).publicKey);
    for (let i = 0; i < entries.length; i += MAX_SERVER_CODE_RECORDS) {
      const records = entries.slice(i, i + MAX_SERVER_CODE_RECORDS).map((entry) => ({
        kind: 'server_code' as const, entry, group, keyVersion: 1,
        sealed: sealCodeKeyForServer(codeKey, { vault, entry, group, keyVersion: 1 }, { kind: 'totp', secret: encodeSecret(randomBytes(20)), algorithm: 'SHA1', digits: 6, period: 30, counter: 0 }),
      }));
      await owner.ok('codesSeal', { vault, records });
    }

    progress(`${TOTAL.toLocaleString('en-US')} codes at most, ${SECONDS} s at most, ${IN_FLIGHT} in flight, from a load generator process`);
    const sessionsOf = (set: typeof members) => set.map((m) => ({ accessToken: m.client.tokens?.accessToken ?? '', deviceId: m.client.deviceId }));
    const sessions = sessionsOf(members.slice(0, ACCOUNTS));
    const task = { kind: 'codes' as const, url: server.url, vault, entries, sessions, total: TOTAL, seconds: SECONDS, inFlight: IN_FLIGHT, connections: CONNECTIONS };
    const { report, serverCpuMs, databaseCpuMs } = await runLoad({ ...task, route: 'codes' }, server, postmaster);
    progress(`open loop: ${PACE.toLocaleString('en-US')} codes/s for ${SECONDS} s, as the other ${ACCOUNTS} members, at most ${PACED_CAP} out at once`);
    const paced = await runLoad({ ...task, sessions: sessionsOf(members.slice(ACCOUNTS)), inFlight: PACED_CAP, pace: PACE, route: 'codes' }, server, postmaster);
    progress('the same load on GET /v1/session: what authenticating a request costs alone');
    const alone = await runLoad({ ...task, route: 'session' }, server, postmaster);
    const audited = await (async () => {
      const check = new pg.Client({ connectionString: databaseUrl });
      await check.connect();
      try {
        const { rows } = await check.query<{ n: number }>(`SELECT count(*)::int AS n FROM server_audit WHERE kind = 'codes.computed'`); // both runs'
        return rows[0]?.n ?? 0;
      } finally {
        await check.end();
      }
    })();
    const rate = report.ok / (report.wallMs / 1000);
    const failures = report.failed === 0 ? '' : `, ${report.failed.toLocaleString('en-US')} refused (first: ${report.firstFailure ?? '?'})`;
    return [
      { measure: 'Server-computed codes: a crewvault server process on PostgreSQL, load from another process', value: '', beside: '' },
      {
        measure: 'server-computed codes', value: `${formatRate(rate)}/s`,
        beside: `goal ≥ 3,000/s on 2 cores; ${report.ok.toLocaleString('en-US')} codes in ${formatMs(report.wallMs)}, ${IN_FLIGHT} in flight (${CONNECTIONS === 'keep' ? 'connections kept alive' : 'a new connection a request, as a desktop'}), ${ACCOUNTS} members, ${ENTRIES.toLocaleString('en-US')} entries${failures}`,
      },
      {
        measure: '  a code, p50 / p99, saturated', value: `${formatMs(percentile(report.latencies, 50))} / ${formatMs(percentile(report.latencies, 99))}`,
        beside: `goal p99 < 20 ms, read here at ${IN_FLIGHT} in flight: a closed loop, its mean latency ${IN_FLIGHT} / rate by Little's law`,
      },
      {
        measure: `  a code at ${PACE.toLocaleString('en-US')}/s arriving as a fleet's (open loop, Poisson), p50 / p99`, value: `${formatMs(percentile(paced.report.latencies, 50))} / ${formatMs(percentile(paced.report.latencies, 99))}`,
        beside: `goal p99 < 20 ms, read here at 3,000/s; ${paced.report.ok.toLocaleString('en-US')} codes of ${paced.report.sent.toLocaleString('en-US')} sent in ${formatMs(paced.report.wallMs)} (${formatRate(paced.report.ok / (paced.report.wallMs / 1000))}/s), latency from each one's scheduled time, at most ${paced.report.mostOut} out at once${paced.report.failed === 0 ? '' : `, ${paced.report.failed.toLocaleString('en-US')} refused (first: ${paced.report.firstFailure ?? '?'})`}; CPU a code: server ${(paced.serverCpuMs * 1000 / Math.max(1, paced.report.ok)).toFixed(0)} µs`,
      },
      {
        measure: '  CPU a code: server / PostgreSQL / load generator', value: `${(serverCpuMs * 1000 / Math.max(1, report.ok)).toFixed(0)} µs / ${Number.isFinite(databaseCpuMs) ? `${(databaseCpuMs * 1000 / Math.max(1, report.ok)).toFixed(0)} µs` : '?'} / ${(report.cpuMs * 1000 / Math.max(1, report.ok)).toFixed(0)} µs`,
        beside: `audit rows of codes given, both runs: ${audited.toLocaleString('en-US')} of ${(report.ok + paced.report.ok).toLocaleString('en-US')} (each code audited with its step before it is given)`,
      },
      {
        measure: '  beside it: GET /v1/session, same load (authentication alone)',
        value: `${formatRate(alone.report.ok / (alone.report.wallMs / 1000))}/s`,
        beside: `p99 ${formatMs(percentile(alone.report.latencies, 99))}; CPU a request: server ${(alone.serverCpuMs * 1000 / Math.max(1, alone.report.ok)).toFixed(0)} µs / PostgreSQL ${Number.isFinite(alone.databaseCpuMs) ? (alone.databaseCpuMs * 1000 / Math.max(1, alone.report.ok)).toFixed(0) : '?'} µs`,
      },
    ];
  } finally {
    const errors = server?.errors() ?? [];
    await server?.stop();
    await cluster?.stop();
    if (errors.length > 0) progress(`the server logged errors:\n${errors.join('\n')}`);
  }
}
