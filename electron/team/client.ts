/**
 * The client half of a team server's contract (shared/api/server-contract.ts): each call
 * goes through transport.ts (which server is trusted, and how), and each reply is parsed with
 * the contract before it is believed. OPAQUE's client half runs here: the password never
 * leaves this process, and the export key it yields opens the person's key material
 * (account-keys.ts). The server's OPAQUE key, seen at the first registration or sign-in on
 * this computer, is kept with the server's profile: a registration that meets another is
 * refused before its record leaves, whatever TLS said (a sign-in meeting another fails
 * OPAQUE's own check). Everything the server says is parsed, and what is printed made printable.
 * Must never: log or put in an error a password, a token, an export key, a code or the local
 * admin key, or send that key on a route not marked `local`.
 */
import { hostname } from 'node:os';
import * as opaque from '@serenity-kit/opaque';
import { z } from 'zod';
import {
  DEVICE_HEADER, LOCAL_ADMIN_HEADER, parseServerReply, SERVER_ROLES, SERVER_ROUTES, SYNC_STREAM_PATH, type SecondStep, type ServerRouteInput, type ServerRouteName, type ServerRouteOutput, type ServerUser, type SessionTokens,
} from '../../shared/api/server-contract';
import { CrewvaultError, type ErrorCode } from '../../shared/errors';
import { printable } from './printable';
import { newAccountKeys, openAccountKeys, rawPublicKey, sealAccountKeys, type AccountKeys } from './account-keys';
import { openEventStream, send, type EventStream, type ServerTrust, type TransportOptions } from './transport';

/** Who the server says the person is, held to what this client keeps and prints (a name as the server takes names, an id as it makes them). */
const trustedUser = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{32}$/),
  username: z.string().min(1).max(64).regex(/^[^\p{C}]+$/u),
  role: z.enum(SERVER_ROLES),
});

function checkedUser(user: ServerUser): ServerUser {
  const parsed = trustedUser.safeParse(user);
  if (!parsed.success) throw new CrewvaultError('SERVER_UNREACHABLE', 'the server named the person in a way this client does not take (a name or id out of shape): nothing was kept');
  return parsed.data;
}

export class TeamClient {
  tokens: SessionTokens | undefined;
  /**
   * The server's OPAQUE static public key, as the sign-in authenticated it (a server without its
   * private key cannot complete a sign-in under it): the server's identity, whatever URL reaches
   * it. Set by login and register here, and from the kept profile (sign-in.ts keptSession).
   */
  serverKey: string | undefined;
  /**
   * The server's local admin key, read from its data folder by `crewvault server admin` on its
   * machine; sent on the routes marked `local` only, never on any other.
   */
  localAdminKey: string | undefined;

  constructor(
    readonly url: URL,
    readonly trust: ServerTrust,
    readonly deviceId: string,
    private readonly options: TransportOptions = {},
  ) {}

  /** A route of the contract; its value, or the server's error as a CrewvaultError. `sent` as transport.ts `send`'s. */
  async call<N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> {
    return this.callParsed(name, input, (body) => parseServerReply(name, body), sent);
  }

  /**
   * A route whose value `parse` reads (it throws on a reply out of shape), for a reply parsed part by
   * part: a snapshot page whose records are judged one at a time (snapshot-page.ts). Errors as `call`;
   * `sent` as transport.ts `send`'s.
   */
  async callParsed<N extends ServerRouteName, T>(name: N, input: ServerRouteInput<N>, parse: (body: unknown) => { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: { readonly code: ErrorCode; readonly message: string } }, sent?: () => void): Promise<T> {
    const spec = SERVER_ROUTES[name];
    const headers: Record<string, string> = this.tokens === undefined ? {} : { authorization: `Bearer ${this.tokens.accessToken}`, [DEVICE_HEADER]: this.deviceId };
    if ('local' in spec && spec.local === true && this.localAdminKey !== undefined) headers[LOCAL_ADMIN_HEADER] = this.localAdminKey;
    const body = spec.method === 'GET' ? undefined : JSON.stringify(input ?? {});
    const raw = await send(this.url, this.trust, spec.method, spec.path, body, headers, this.options, sent);
    let reply: ReturnType<typeof parse>;
    try {
      reply = parse(raw.body);
    } catch {
      throw new CrewvaultError('SERVER_UNREACHABLE', `the server at ${this.url.host} gave an answer this client does not understand (HTTP ${raw.status}): is it a Crewvault server of this version?`);
    }
    if (!reply.ok) throw new CrewvaultError(reply.error.code, printable(reply.error.message));
    return reply.value;
  }

  /**
   * Registers with an invite; the person's key material is made here and sealed before it
   * leaves. `knownServerKey`: the server's OPAQUE key as this computer first saw it there. A
   * registration record lets whoever holds it test guesses at the password offline, so it goes
   * only to the server that had that key (SERVER_UNTRUSTED otherwise, before it is sent).
   */
  async register(invite: string, username: string, password: string, knownServerKey: string | undefined): Promise<{ user: ServerUser; serverKey: string; keys: AccountKeys }> {
    await opaque.ready;
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password });
    const { registrationResponse } = await this.call('registerStart', { invite, username, registrationRequest });
    const { registrationRecord, exportKey, serverStaticPublicKey } = opaque.client.finishRegistration({ clientRegistrationState, registrationResponse, password });
    if (knownServerKey !== undefined && serverStaticPublicKey !== knownServerKey) {
      throw new CrewvaultError('SERVER_UNTRUSTED', `the server at ${this.url.host} answered with another OPAQUE key than it had before: nothing was registered. If its administrator says the server was set up anew, run again with --new-server`);
    }
    const keys = newAccountKeys();
    const { user } = await this.call('registerFinish', { invite, username, registrationRecord, sealedKeys: sealAccountKeys(exportKey, keys) });
    this.serverKey = serverStaticPublicKey;
    return { user: checkedUser(user), serverKey: serverStaticPublicKey, keys };
  }

  /**
   * OPAQUE's sign-in. WRONG_PASSWORD when the client's own check fails: a wrong password, a
   * name nobody has (neither this client nor anyone watching can tell which), or a server
   * other than the one the person registered with (the record binds the server's key, so
   * another server's answer does not open either).
   */
  async login(username: string, password: string, deviceToken?: string): Promise<LoginAttempt> {
    await opaque.ready;
    const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password });
    const { attemptId, loginResponse } = await this.call('loginStart', { username, startLoginRequest });
    const finished = opaque.client.finishLogin({ clientLoginState, loginResponse, password });
    if (finished === undefined) throw new CrewvaultError('WRONG_PASSWORD', 'wrong user name or password');
    const done = await this.call('loginFinish', {
      attemptId, finishLoginRequest: finished.finishLoginRequest, deviceId: this.deviceId, deviceName: deviceName(), ...(deviceToken === undefined ? {} : { deviceToken }),
    });
    this.tokens = done.tokens;
    this.serverKey = finished.serverStaticPublicKey;
    return {
      user: checkedUser(done.user), secondStep: done.secondStep, exportKey: finished.exportKey, serverKey: finished.serverStaticPublicKey,
      ...(done.deviceToken === undefined ? {} : { deviceToken: done.deviceToken }),
    };
  }

  /**
   * Publishes the public key of `keys` (opened at this sign-in) for owners binding this account to
   * a vault user; CONFLICT when the server holds another for this account.
   */
  async publishPublicKey(keys: AccountKeys): Promise<void> {
    await this.call('accountPublicKeyPublish', { publicKey: rawPublicKey(keys).toString('base64url') });
  }

  /** The person's key material, opened (VAULT_TAMPERED when it does not open with this sign-in). */
  async accountKeys(exportKey: string): Promise<AccountKeys> {
    const { sealedKeys } = await this.call('accountKeys', undefined);
    return openAccountKeys(exportKey, sealedKeys);
  }

  /** Holds the vault's sync stream open: `onSeq` with the server's sequence each time records are stored (and once at once). */
  openSyncStream(vault: string, onSeq: (seq: number) => void): Promise<EventStream> {
    if (this.tokens === undefined) throw new CrewvaultError('UNAUTHORIZED', 'Sign in first');
    const headers = { authorization: `Bearer ${this.tokens.accessToken}`, [DEVICE_HEADER]: this.deviceId };
    return openEventStream(this.url, this.trust, `${SYNC_STREAM_PATH}?vault=${encodeURIComponent(vault)}`, headers, (event, data) => {
      if (event !== 'seq') return;
      try {
        const seq = (JSON.parse(data) as { seq?: unknown }).seq;
        if (typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0) onSeq(seq);
      } catch {
        // not an event of ours: ignored
      }
    }, this.options);
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
  /** A new device token, when the one sent did not prove this device (or none was): kept, and sent at the next sign-in. */
  readonly deviceToken?: string;
}

/** How the server lists this device among the person's: the computer's name, made printable. */
function deviceName(): string {
  const name = printable(hostname()).slice(0, 100);
  return name === '' ? 'Crewvault CLI' : name;
}

/**
 * A request asked for ahead (a page the server reads while this desktop writes the one before):
 * `reply` as `start` gives it, and `sent`, settled once the request is out (transport.ts `send`'s
 * `sent`) or its reply settled, whichever comes first. A caller about to hold the event loop (a
 * page's write) awaits `sent` first: the request's connection is made on the loop, so until then
 * the server would wait for the write too.
 */
export function askedAhead<T>(start: (sent: () => void) => Promise<T>): { readonly reply: Promise<T>; readonly sent: Promise<void> } {
  let out = (): void => undefined;
  const sent = new Promise<void>((resolve) => {
    out = resolve;
  });
  const reply = start(() => out());
  reply.then(() => out(), () => out());
  return { reply, sent };
}
