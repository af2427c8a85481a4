/**
 * A Crewvault server for a test: the real app (server/app.ts) on a real database, listening
 * on 127.0.0.1 with a port of its own, a clock the test moves by hand, and every log line
 * kept for inspection. `TestClient` speaks real HTTP (fetch) and parses each reply with the
 * shared contract; the OPAQUE client half is the real library, with a cheap Argon2id so a
 * sign-in costs milliseconds (the server never sees or depends on that choice).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import * as opaque from '@serenity-kit/opaque';
import type { FastifyInstance } from 'fastify';
import {
  DEVICE_HEADER, parseServerReply, SERVER_ROUTES, type ServerRouteInput, type ServerRouteName, type ServerRouteOutput, type ServerUser, type SessionTokens,
} from '../../shared/api/server-contract';
import type { ErrorInfo } from '../../shared/errors';
import { defaultOtpParams, hotpCode, timeStep } from '../../shared/otp';
import { buildApp } from '../../server/app';
import { firstOwnerInvite } from '../../server/auth/accounts';
import { DEFAULT_THROTTLE_LIMITS, type ThrottleLimits } from '../../server/context';
import { createServerKeys, type ServerKeys } from '../../server/keys';
import type { Database } from '../../server/store/db';
import { migrate } from '../../server/store/migrate';

/** Cheap key stretching for tests only; a real client keeps the library's default. */
export const TEST_KEY_STRETCHING = { 'argon2id-custom': { memory: 256, iterations: 1, parallelism: 1 } } as const;

/**
 * What a client does with OPAQUE's export key (the desktop's real version comes with its
 * sign-in): HKDF-SHA256 to an AES-256-GCM key, sealing the person's key material so the
 * server holds bytes it cannot open.
 */
function exportKeyCipherKey(exportKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(exportKey, 'base64url'), Buffer.alloc(0), 'crewvault account keys v1', 32));
}

export function sealWithExportKey(exportKey: string, plaintext: Buffer): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', exportKeyCipherKey(exportKey), nonce);
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, sealed, cipher.getAuthTag()]).toString('base64url');
}

/** The plaintext, or undefined when the export key is not the one it was sealed under. */
export function openWithExportKey(exportKey: string, sealed: string): Buffer | undefined {
  const bytes = Buffer.from(sealed, 'base64url');
  try {
    const decipher = createDecipheriv('aes-256-gcm', exportKeyCipherKey(exportKey), bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
  } catch {
    return undefined;
  }
}

export interface TestClock {
  readonly now: () => number;
  advance(ms: number): void;
}

export function testClock(start = Date.UTC(2026, 10, 30, 9, 0, 0)): TestClock {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

export interface TestServer {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly db: Database;
  readonly keys: ServerKeys;
  readonly clock: TestClock;
  /** Every JSON log line so far. */
  readonly logs: string[];
  /** The first owner's invite (made at start, as server/main.ts does). */
  readonly ownerInvite: string;
  close(): Promise<void>;
}

export async function startTestServer(db: Database, options: { keys?: ServerKeys; throttle?: ThrottleLimits; allowRemoteAdmin?: boolean } = {}): Promise<TestServer> {
  await opaque.ready;
  await migrate(db);
  const keys = options.keys ?? await createServerKeys();
  const clock = testClock();
  const logs: string[] = [];
  const throttle = options.throttle ?? DEFAULT_THROTTLE_LIMITS;
  const invite = await firstOwnerInvite({ db, keys, now: clock.now, throttle });
  const app = await buildApp({ db, keys, now: clock.now, throttle, log: { write: (line) => logs.push(line) }, logLevel: 'trace', version: 'test', allowRemoteAdmin: options.allowRemoteAdmin });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the test server has no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    app, db, keys, clock, logs,
    ownerInvite: invite?.invite ?? '',
    close: () => app.close(),
  };
}

export type ServerReply<N extends ServerRouteName> = ReturnType<typeof parseServerReply<N>>;

export interface Raw {
  readonly status: number;
  readonly body: unknown;
}

export class TestClient {
  readonly deviceId: string;
  tokens: SessionTokens | undefined;
  /** The device token the server gave this device at a sign-in, presented at the next (as the desktop keeps it). */
  deviceToken: string | undefined;

  constructor(readonly url: string, deviceId?: string, deviceToken?: string) {
    this.deviceId = deviceId ?? randomBytes(16).toString('hex');
    this.deviceToken = deviceToken;
  }

  /** Any request, as it comes back. */
  async raw(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Raw> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(20_000),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) as unknown };
  }

  authHeaders(): Record<string, string> {
    return this.tokens === undefined ? {} : { authorization: `Bearer ${this.tokens.accessToken}`, [DEVICE_HEADER]: this.deviceId };
  }

  /** A route of the contract, with this client's session when it has one. */
  async call<N extends ServerRouteName>(name: N, input: ServerRouteInput<N>): Promise<ServerReply<N> & { status: number }> {
    const spec = SERVER_ROUTES[name];
    const raw = await this.raw(spec.method, spec.path, spec.method === 'GET' ? undefined : JSON.stringify(input ?? {}), this.authHeaders());
    return { ...parseServerReply(name, raw.body), status: raw.status };
  }

  /** The value of a call that must succeed. */
  async ok<N extends ServerRouteName>(name: N, input: ServerRouteInput<N>): Promise<ServerRouteOutput<N>> {
    const reply = await this.call(name, input);
    if (!reply.ok) throw new Error(`${name} failed: ${reply.error.code}: ${reply.error.message}`);
    return reply.value;
  }

  /** The error of a call that must fail. */
  async fails<N extends ServerRouteName>(name: N, input: ServerRouteInput<N>): Promise<ErrorInfo & { status: number }> {
    const reply = await this.call(name, input);
    if (reply.ok) throw new Error(`${name} succeeded where it should fail`);
    return { ...reply.error, status: reply.status };
  }

  /** Registers, sealing `privateKey` (random when not given) under the new export key. */
  async register(invite: string, username: string, password: string, privateKey: Buffer = randomBytes(32)): Promise<{ user: ServerUser; exportKey: string; privateKey: Buffer }> {
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password });
    const { registrationResponse } = await this.ok('registerStart', { invite, username, registrationRequest });
    const { registrationRecord, exportKey } = opaque.client.finishRegistration({
      clientRegistrationState, registrationResponse, password, keyStretching: TEST_KEY_STRETCHING,
    });
    const sealedKeys = sealWithExportKey(exportKey, privateKey);
    const { user } = await this.ok('registerFinish', { invite, username, registrationRecord, sealedKeys });
    return { user, exportKey, privateKey };
  }

  /**
   * OPAQUE's login up to the client's own check. `finish` is undefined when the client found
   * the server's answer does not fit the password (wrong password, or no such user: the
   * client cannot tell which, and neither can anyone watching).
   */
  async loginStart(username: string, password: string): Promise<{ attemptId: string; loginResponse: string; finish: { finishLoginRequest: string; exportKey: string; sessionKey: string } | undefined }> {
    const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password });
    const { attemptId, loginResponse } = await this.ok('loginStart', { username, startLoginRequest });
    const finish = opaque.client.finishLogin({ clientLoginState, loginResponse, password, keyStretching: TEST_KEY_STRETCHING });
    return { attemptId, loginResponse, finish };
  }

  /** A whole sign-in that must succeed; keeps the tokens. */
  async login(username: string, password: string): Promise<ServerRouteOutput<'loginFinish'> & { exportKey: string }> {
    const started = await this.loginStart(username, password);
    if (started.finish === undefined) throw new Error('the client could not finish the login');
    const result = await this.ok('loginFinish', {
      attemptId: started.attemptId, finishLoginRequest: started.finish.finishLoginRequest, deviceId: this.deviceId,
      ...(this.deviceToken === undefined ? {} : { deviceToken: this.deviceToken }),
    });
    this.tokens = result.tokens;
    this.deviceToken = result.deviceToken ?? this.deviceToken;
    return { ...result, exportKey: started.finish.exportKey };
  }

  /** A new password for the signed-in person (OPAQUE registration again), `privateKey` sealed anew. */
  async changePassword(password: string, privateKey: Buffer = randomBytes(32)): Promise<ServerRouteOutput<'passwordFinish'> & { exportKey: string }> {
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password });
    const { registrationResponse } = await this.ok('passwordStart', { registrationRequest });
    const { registrationRecord, exportKey } = opaque.client.finishRegistration({ clientRegistrationState, registrationResponse, password, keyStretching: TEST_KEY_STRETCHING });
    const result = await this.ok('passwordFinish', { registrationRecord, sealedKeys: sealWithExportKey(exportKey, privateKey) });
    return { ...result, exportKey };
  }
}

/** What a person's authenticator app shows for `secret` (as the server gave it, grouped or not) `steps` steps from `nowMs`. */
export function authenticatorCode(secret: string, nowMs: number, steps = 0): string {
  return hotpCode({ ...defaultOtpParams(secret.replace(/ /g, '')), kind: 'hotp', counter: timeStep(nowMs, 30) + steps }).code;
}

/** A user name no other test uses. */
export function uniqueName(prefix = 'tech'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** A password no other test uses, long and random enough to find in a dump or a log. */
export function uniquePassword(): string {
  return `pw-${randomBytes(12).toString('base64url')}`;
}

export interface Person {
  readonly client: TestClient;
  readonly username: string;
  password: string;
  readonly user: ServerUser;
  /** The key material their client sealed at registration. */
  readonly privateKey: Buffer;
}

/** The server's first owner, registered with the server's own invite and signed in. */
export async function registerOwner(server: TestServer): Promise<Person> {
  const client = new TestClient(server.url);
  const username = uniqueName('owner');
  const password = uniquePassword();
  const { user, privateKey } = await client.register(server.ownerInvite, username, password);
  await client.login(username, password);
  return { client, username, password, user, privateKey };
}

/** Someone the owner (or an admin) invites, registered and signed in on a device of their own. */
export async function invitePerson(server: TestServer, inviter: Person, role: 'admin' | 'member' = 'member'): Promise<Person> {
  const username = uniqueName(role);
  const password = uniquePassword();
  let reply = await inviter.client.call('inviteCreate', { username, role });
  if (!reply.ok && reply.error.code === 'UNAUTHORIZED') {
    // The test moved the clock past the inviter's access token: they sign in again.
    await inviter.client.login(inviter.username, inviter.password);
    reply = await inviter.client.call('inviteCreate', { username, role });
  }
  if (!reply.ok) throw new Error(`inviteCreate failed: ${reply.error.code}: ${reply.error.message}`);
  const { invite } = reply.value;
  const client = new TestClient(server.url);
  const { user, privateKey } = await client.register(invite, username, password);
  await client.login(username, password);
  return { client, username, password, user, privateKey };
}
