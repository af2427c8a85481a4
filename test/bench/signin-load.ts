/**
 * The clients of the server bench: many people signing in at once, each from an address of
 * its own on 127.0.0.0/8 (an office's desktops, not one address the throttle would hold back:
 * server/auth/throttle.ts), each request on a new connection as the desktop's transport makes
 * it (electron/team/transport.ts). The OPAQUE client half is the tests' (test/server/support.ts):
 * the real library with the cheap TEST_KEY_STRETCHING, so the client's Argon2id costs next to
 * nothing on the shared cores. The server never sees which stretching a client used.
 *
 * Must never: reuse a sign-in's result as another's; every sign-in is loginStart + loginFinish.
 */
import { request } from 'node:http';
import { TestClient, uniquePassword, type Raw } from '../server/support';
import { nowMs } from './measure';

const TIMEOUT_MS = 20_000;

/** A TestClient whose requests leave from `localAddress`, one connection each, timed. */
export class BenchClient extends TestClient {
  /** Time spent waiting for the server's replies since the last reset, ms. */
  requestMs = 0;

  constructor(url: string, readonly localAddress: string) {
    super(url);
  }

  override raw(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Raw> {
    const started = nowMs();
    const target = new URL(path, this.url);
    return new Promise<Raw>((resolve, reject) => {
      const req = request({
        method, hostname: target.hostname, port: target.port, path: target.pathname, localAddress: this.localAddress, agent: false, timeout: TIMEOUT_MS,
        headers: body === undefined ? headers : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          this.requestMs += nowMs() - started;
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) as unknown });
          } catch {
            reject(new Error(`${path}: the server answered ${res.statusCode ?? 0} with something that is not JSON`));
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${path}: no answer within ${TIMEOUT_MS / 1000} s`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** The i-th client's address: 127.10.0.1, 127.10.0.2, … (250 per /24, never .0 or .255). */
export function clientAddress(i: number): string {
  return `127.10.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

export interface Account {
  readonly username: string;
  readonly password: string;
}

/**
 * The owner (from the server's invite file) and `count` members the owner invites, each
 * registered by a client of its own (OPAQUE registration), `parallel` at a time.
 */
export async function registerAccounts(url: string, ownerInvite: string, count: number, parallel: number): Promise<Account[]> {
  const owner = new BenchClient(url, clientAddress(0));
  const ownerAccount = { username: 'bench-owner', password: uniquePassword() };
  await owner.register(ownerInvite, ownerAccount.username, ownerAccount.password);
  await owner.login(ownerAccount.username, ownerAccount.password);
  const accounts: Account[] = [];
  let next = 0;
  const worker = async (w: number): Promise<void> => {
    const client = new BenchClient(url, clientAddress(w));
    for (let i = next++; i < count; i = next++) {
      const account = { username: `bench-${String(i).padStart(6, '0')}`, password: uniquePassword() };
      const { invite } = await owner.ok('inviteCreate', { username: account.username, role: 'member' });
      await client.register(invite, account.username, account.password);
      accounts.push(account);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, (_, w) => worker(w)));
  return accounts;
}

export interface SignInRun {
  /** Sign-ins that got their tokens. */
  readonly done: number;
  readonly failed: number;
  /** The first failure's message (one line), if any. */
  readonly firstFailure: string | undefined;
  /** First loginStart sent → last loginFinish answered, ms. */
  readonly wallMs: number;
  /** Per successful sign-in, as its client saw it: the whole sign-in, client OPAQUE work included. */
  readonly totalMs: readonly number[];
  /** Per successful sign-in: the two requests only (send → reply read). */
  readonly requestsMs: readonly number[];
  /** How many sessions the server said still needed a second step (accounts here have none). */
  readonly secondStepAsked: number;
}

/**
 * `total` full sign-ins (loginStart + client finish + loginFinish) by `clients.length`
 * concurrent clients; sign-in k uses account k mod accounts.length. A fixed count, not a
 * duration: the run ends when the last one is answered (or has timed out).
 */
export async function runSignIns(clients: readonly BenchClient[], accounts: readonly Account[], total: number): Promise<SignInRun> {
  const totalMs: number[] = [];
  const requestsMs: number[] = [];
  let failed = 0;
  let firstFailure: string | undefined;
  let secondStepAsked = 0;
  let next = 0;
  const loop = async (client: BenchClient): Promise<void> => {
    for (let k = next++; k < total; k = next++) {
      const account = accounts[k % accounts.length];
      if (account === undefined) throw new Error('no accounts to sign in with');
      client.tokens = undefined;
      client.requestMs = 0;
      const started = nowMs();
      try {
        const { secondStep } = await client.login(account.username, account.password);
        totalMs.push(nowMs() - started);
        requestsMs.push(client.requestMs);
        if (secondStep !== 'done') secondStepAsked++;
      } catch (error) {
        failed++;
        firstFailure ??= (error instanceof Error ? error.message : String(error)).split('\n')[0];
      }
    }
  };
  const started = nowMs();
  await Promise.all(clients.map(loop));
  return { done: totalMs.length, failed, firstFailure, wallMs: nowMs() - started, totalMs, requestsMs, secondStepAsked };
}
