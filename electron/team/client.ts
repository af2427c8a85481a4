/**
 * The client half of a team server's contract (shared/api/server-contract.ts): each call
 * goes through transport.ts (which server is trusted, and how), and each reply is parsed with
 * the contract before it is believed. OPAQUE's client half runs here: the password never
 * leaves this process, and the export key it yields opens the person's key material
 * (account-keys.ts). The server's OPAQUE key, seen at registration or at the first sign-in,
 * is kept with the server's profile: a later sign-in that finds another is refused, whatever
 * TLS said.
 * Must never: log or put in an error a password, a token, an export key or a code.
 */
import { hostname } from 'node:os';
import * as opaque from '@serenity-kit/opaque';
import {
  DEVICE_HEADER, parseServerReply, SERVER_ROUTES, type SecondStep, type ServerRouteInput, type ServerRouteName, type ServerRouteOutput, type ServerUser, type SessionTokens,
} from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { newAccountKeys, openAccountKeys, sealAccountKeys, type AccountKeys } from './account-keys';
import { send, type ServerTrust, type TransportOptions } from './transport';

/** A server's words, made safe to print: one line, no control characters, bounded. */
function printable(message: string): string {
  return message.replace(/\p{C}+/gu, ' ').trim().slice(0, 300);
}

export class TeamClient {
  tokens: SessionTokens | undefined;

  constructor(
    readonly url: URL,
    readonly trust: ServerTrust,
    readonly deviceId: string,
    private readonly options: TransportOptions = {},
  ) {}

  /** A route of the contract; its value, or the server's error as a CrewvaultError. */
  async call<N extends ServerRouteName>(name: N, input: ServerRouteInput<N>): Promise<ServerRouteOutput<N>> {
    const spec = SERVER_ROUTES[name];
    const headers: Record<string, string> = this.tokens === undefined ? {} : { authorization: `Bearer ${this.tokens.accessToken}`, [DEVICE_HEADER]: this.deviceId };
    const body = spec.method === 'GET' ? undefined : JSON.stringify(input ?? {});
    const raw = await send(this.url, this.trust, spec.method, spec.path, body, headers, this.options);
    let reply: ReturnType<typeof parseServerReply<N>>;
    try {
      reply = parseServerReply(name, raw.body);
    } catch {
      throw new CrewvaultError('SERVER_UNREACHABLE', `the server at ${this.url.host} gave an answer this client does not understand (HTTP ${raw.status}): is it a Crewvault server of this version?`);
    }
    if (!reply.ok) throw new CrewvaultError(reply.error.code, printable(reply.error.message));
    return reply.value;
  }

  /** Registers with an invite; the person's key material is made here and sealed before it leaves. */
  async register(invite: string, username: string, password: string): Promise<{ user: ServerUser; serverKey: string; keys: AccountKeys }> {
    await opaque.ready;
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password });
    const { registrationResponse } = await this.call('registerStart', { invite, username, registrationRequest });
    const { registrationRecord, exportKey, serverStaticPublicKey } = opaque.client.finishRegistration({ clientRegistrationState, registrationResponse, password });
    const keys = newAccountKeys();
    const { user } = await this.call('registerFinish', { invite, username, registrationRecord, sealedKeys: sealAccountKeys(exportKey, keys) });
    return { user, serverKey: serverStaticPublicKey, keys };
  }

  /**
   * OPAQUE's sign-in. WRONG_PASSWORD when the client's own check fails (a wrong password or a
   * name nobody has: neither this client nor anyone watching can tell which). `serverKey`:
   * the server's OPAQUE key as first seen; another one is refused before the sign-in ends.
   */
  async login(username: string, password: string, serverKey: string | undefined): Promise<LoginAttempt> {
    await opaque.ready;
    const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password });
    const { attemptId, loginResponse } = await this.call('loginStart', { username, startLoginRequest });
    const finished = opaque.client.finishLogin({ clientLoginState, loginResponse, password });
    if (finished === undefined) throw new CrewvaultError('WRONG_PASSWORD', 'wrong user name or password');
    if (serverKey !== undefined && finished.serverStaticPublicKey !== serverKey) {
      throw new CrewvaultError('SERVER_UNTRUSTED', `the server at ${this.url.host} answered with another OPAQUE key than it had: nothing was sent. Ask its administrator whether the server was replaced`);
    }
    const done = await this.call('loginFinish', { attemptId, finishLoginRequest: finished.finishLoginRequest, deviceId: this.deviceId, deviceName: deviceName() });
    this.tokens = done.tokens;
    return { user: done.user, secondStep: done.secondStep, exportKey: finished.exportKey, serverKey: finished.serverStaticPublicKey };
  }

  /** The person's key material, opened (VAULT_TAMPERED when it does not open with this sign-in). */
  async accountKeys(exportKey: string): Promise<AccountKeys> {
    const { sealedKeys } = await this.call('accountKeys', undefined);
    return openAccountKeys(exportKey, sealedKeys);
  }

  /** New tokens for the ones kept (the old refresh token is spent). */
  async refresh(tokens: SessionTokens): Promise<SessionTokens> {
    const { tokens: next } = await this.call('refresh', { refreshToken: tokens.refreshToken, deviceId: this.deviceId });
    this.tokens = next;
    return next;
  }
}

export interface LoginAttempt {
  readonly user: ServerUser;
  readonly secondStep: SecondStep;
  readonly exportKey: string;
  readonly serverKey: string;
}

/** How the server lists this device among the person's: the computer's name, made printable. */
function deviceName(): string {
  const name = printable(hostname()).slice(0, 100);
  return name === '' ? 'Crewvault CLI' : name;
}
