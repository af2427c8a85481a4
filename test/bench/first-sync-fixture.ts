/**
 * A first sync measured again and again from one prepared team vault (issue 15): `bench:sync`
 * makes an N-entry vault and moves it onto its server before each first sync (at 100,000 that
 * move alone is ~8 minutes on the shared machine), so two builds measured back to back cost
 * twenty minutes a pair. This tool makes that world once and keeps it:
 *
 *   node dist/bench-first-sync.mjs prepare DIR N     the owner's vault A (N entries) moved onto a
 *                                                    server (PGlite in DIR/server), and desktop B:
 *                                                    A's file before any entry, a device of its own
 *   node dist/bench-first-sync.mjs run DIR [URL | --apart] [--history]
 *                                                    a copy of B's file takes the first sync (state
 *                                                    part: "usable") from the server at URL, or from
 *                                                    one started on a copy of DIR/server: in this
 *                                                    process, or with --apart as `crewvault server`
 *                                                    in its own (as bench:sync runs it, its CPU read
 *                                                    from /proc); prints wall and CPU until usable,
 *                                                    the load beside them, records, the payload,
 *                                                    GC time until usable and V8's young generation
 *                                                    (`node --max-semi-space-size=N` to try another);
 *                                                    with --history, the audit history after it too
 *
 * With URL, the server is another process (`crewvault server --data COPY`, under `node
 * --cpu-prof` to profile it apart); this process's CPU is then the desktop's alone. The payload is
 * counted after the timed part, by asking the server for the same pages again (the bytes of each
 * reply as sent), so counting costs the measured run nothing.
 * Must never: write into DIR during a run (each run works on copies), or print a password or token.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { DEVICE_HEADER, SERVER_ROUTES } from '../../shared/api/server-contract';
import { parseOtpUri } from '../../shared/otp';
import { VAULT_OBJECT_KINDS } from '../../shared/sync/records';
import { TeamClient } from '../../electron/team/client';
import { firstSync, takeHistory } from '../../electron/team/first-sync';
import { syncOnce } from '../../electron/team/sync';
import { MIN_KDF } from '../../electron/vault/crypto';
import { createVault, Vault } from '../../electron/vault/vault';
import { startServer } from '../../server/main';
import { copyAsNewDesktop } from '../support/replica';
import { benchEntries } from './dataset';
import { nowMs } from './measure';
import { startBenchServer, type BenchServer } from './server-process';

const OWNER = 'bench-owner';
const PASSWORD = 'bench vault password 1';
const SERVER_PASSWORD = 'bench server password 1';
const CREATE_BATCH = 5_000;

function say(text: string): void {
  process.stderr.write(`  [first-sync fixture] ${text}\n`);
}

/** User and system CPU of another process on this machine, ms (/proc/PID/stat), for a server whose pid is given in CREWVAULT_BENCH_SERVER_PID. */
function processCpuMs(pid: string | undefined): number | undefined {
  if (pid === undefined || pid === '') return undefined;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function load(): string {
  return readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ');
}

async function prepare(dir: string, entries: number, movePart: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const server = await startServer({ dataDir: path.join(dir, 'server'), listen: '127.0.0.1:0', version: 'bench' });
  try {
    const fileA = path.join(dir, 'a.crewvault');
    const fileB = path.join(dir, 'b.crewvault');
    const creating = await createVault(fileA, { owner: OWNER, password: PASSWORD, kdf: { ...MIN_KDF } });
    await creating.close();
    await copyAsNewDesktop(fileA, fileB);
    const a = await Vault.open(fileA).signIn(OWNER, PASSWORD);
    const b = await Vault.open(fileB).signIn(OWNER, PASSWORD);
    await a.replica.agreeAll();
    await b.replica.agreeAll();
    await b.close();
    const list = benchEntries(entries);
    for (let i = 0; i < list.length; i += CREATE_BATCH) {
      say(`entries ${i.toLocaleString('en-US')}…`);
      await a.createEntries(list.slice(i, i + CREATE_BATCH).map((e) => {
        const otp = e.otpUri ? parseOtpUri(e.otpUri) : null;
        return { customer: e.customer, title: e.title, username: e.username, password: e.password, url: e.url, notes: e.notes, otp: otp ? { params: otp.params } : null };
      }));
    }
    const invite = readFileSync(path.join(dir, 'server', 'owner-invite.txt'), 'utf8').trim();
    const clientA = new TeamClient(new URL(server.url), { kind: 'loopback' }, 'bench-desktop-a-0001');
    await clientA.register(invite, OWNER, SERVER_PASSWORD, undefined);
    await clientA.login(OWNER, SERVER_PASSWORD);
    say('moving the vault onto the server');
    const started = nowMs();
    const moved = await syncOnce(clientA, a.replica, { move: true, partRecords: movePart });
    say(`moved ${moved.pushed.toLocaleString('en-US')} records in ${((nowMs() - started) / 1000).toFixed(1)} s`);
    await a.close();
    writeFileSync(path.join(dir, 'fixture.json'), JSON.stringify({ entries, records: moved.pushed }));
  } finally {
    await server.close();
  }
}

/**
 * The time V8 spent in GC (every kind, this thread) from now until stop(): each run says what it
 * paid there, so a gap between two runs is read against it (SYNC.md "Speed" step 14: a ~1 s gap
 * put on the young generation's size was the machine's drift, the GC time the same).
 */
function gcTimer(): { stop: () => { ms: number; count: number } } {
  let ms = 0;
  let count = 0;
  const add = (entries: readonly PerformanceEntry[]): void => {
    for (const entry of entries) {
      ms += entry.duration;
      count += 1;
    }
  };
  const observer = new PerformanceObserver((list) => add(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop: () => {
      add(observer.takeRecords());
      observer.disconnect();
      return { ms, count };
    },
  };
}

/** V8's new space as it stands (two semi-spaces and what it keeps beside them), in MiB. */
function youngGenerationMiB(): number {
  const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  return space === undefined ? 0 : Math.round(space.space_size / 1024 / 1024);
}

/** The bytes of every reply of the state part, asked again after the timed run. */
async function statePayload(url: URL, client: TeamClient, vault: string, upTo: number): Promise<{ bytes: number; pages: number }> {
  let after = 0;
  let bytes = 0;
  let pages = 0;
  for (;;) {
    const reply = await fetch(new URL(SERVER_ROUTES.syncSnapshot.path, url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${client.tokens?.accessToken ?? ''}`, [DEVICE_HEADER]: client.deviceId },
      body: JSON.stringify({ vault, part: 'state', after, upTo, kinds: [...VAULT_OBJECT_KINDS] }),
    });
    const text = Buffer.from(await reply.arrayBuffer());
    bytes += text.length;
    pages += 1;
    const page = (JSON.parse(text.toString('utf8')) as { value: { after: number; more: boolean } }).value;
    after = page.after;
    if (!page.more) return { bytes, pages };
  }
}

async function run(dir: string, serverUrl: string | undefined, apart: boolean, withHistory: boolean): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'crewvault-first-sync-'));
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let serverApart: BenchServer | undefined;
  try {
    const fileB = path.join(work, 'b.crewvault');
    copyFileSync(path.join(dir, 'b.crewvault'), fileB);
    if (serverUrl === undefined) {
      cpSync(path.join(dir, 'server'), path.join(work, 'server'), { recursive: true });
      if (apart) serverApart = await startBenchServer(path.join(work, 'server'), undefined);
      else server = await startServer({ dataDir: path.join(work, 'server'), listen: '127.0.0.1:0', version: 'bench' });
    }
    const url = new URL(serverApart?.url ?? server?.url ?? serverUrl ?? '');
    const b = await Vault.open(fileB).signIn(OWNER, PASSWORD);
    const client = new TeamClient(url, { kind: 'loopback' }, 'bench-desktop-b-0001');
    await client.login(OWNER, SERVER_PASSWORD);
    const loadBefore = load();
    const serverPid = serverApart === undefined ? process.env.CREWVAULT_BENCH_SERVER_PID : String(serverApart.pid);
    const serverCpu0 = processCpuMs(serverPid);
    const cpu0 = process.cpuUsage();
    // CLOCK_MONOTONIC in µs, the clock of a V8 CPU profile's timestamps (this process's and the server's alike).
    const monoStart = process.hrtime.bigint() / 1000n;
    const gc = gcTimer();
    const start = nowMs();
    const outcome = await firstSync(client, b.replica, { clock: nowMs, history: 'later' });
    const usableMs = nowMs() - start;
    const cpu = process.cpuUsage(cpu0);
    const gcUntilUsable = gc.stop();
    const serverCpu1 = processCpuMs(serverPid);
    const monoEnd = process.hrtime.bigint() / 1000n;
    const loadAfter = load();
    const listed = (await b.listEntries()).length;
    // The audit history after it (the desktop app takes it in the background), measured apart.
    let history: { historyMs: number; historyCpuMs: number; historyServerCpuMs?: number; events: number } | undefined;
    if (withHistory) {
      const hServer0 = processCpuMs(serverPid);
      const hCpu0 = process.cpuUsage();
      const hStart = nowMs();
      const taken = await takeHistory(client, b.replica);
      const hCpu = process.cpuUsage(hCpu0);
      const hServer1 = processCpuMs(serverPid);
      history = {
        historyMs: Math.round(nowMs() - hStart), historyCpuMs: Math.round((hCpu.user + hCpu.system) / 1000), events: taken?.pulled ?? 0,
        ...(hServer0 === undefined || hServer1 === undefined ? {} : { historyServerCpuMs: Math.round(hServer1 - hServer0) }),
      };
    }
    const payload = await statePayload(url, client, await b.replica.vaultId(), outcome?.upTo ?? 0);
    await b.close();
    const figures = {
      server: serverUrl === undefined && serverApart === undefined ? 'in this process' : 'another process',
      usableMs: Math.round(usableMs), cpuUntilUsableMs: Math.round((cpu.user + cpu.system) / 1000),
      systemCpuUntilUsableMs: Math.round(cpu.system / 1000), gcUntilUsableMs: Math.round(gcUntilUsable.ms), gcs: gcUntilUsable.count, youngGenerationMiB: youngGenerationMiB(),
      ...(serverCpu0 === undefined || serverCpu1 === undefined ? {} : { serverCpuUntilUsableMs: Math.round(serverCpu1 - serverCpu0) }),
      records: outcome?.pulled ?? 0, held: outcome?.held ?? 0, listed,
      payloadMiB: Number((payload.bytes / 1024 / 1024).toFixed(1)), pages: payload.pages,
      loadBefore, loadAfter, profileWindowUs: [Number(monoStart), Number(monoEnd)], ...history, ...(withHistory ? { loadEnd: load() } : {}),
    };
    console.log(JSON.stringify(figures));
  } finally {
    await server?.close();
    await serverApart?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

const [command, dir, arg] = process.argv.slice(2);
if (command === 'prepare' && dir !== undefined) await prepare(path.resolve(dir), Number(arg ?? '10000'), Number(process.env.CREWVAULT_BENCH_SYNC_MOVE_PART ?? '1000'));
else if (command === 'run' && dir !== undefined) {
  const rest = process.argv.slice(4);
  await run(path.resolve(dir), rest.find((a) => a.startsWith('http')), rest.includes('--apart'), rest.includes('--history'));
}
else {
  console.error('usage: bench-first-sync prepare DIR N | run DIR [SERVER_URL | --apart] [--history]');
  process.exitCode = 2;
}
