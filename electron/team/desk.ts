/**
 * The desktop app's side of a team server, behind the router's `team.*` calls
 * (shared/api/team-contract.ts): sign-in with the shared flow (sign-in.ts, the one
 * `crewvault login` uses), the certificate shown for the person to compare before it is
 * pinned, sync rounds through the vault session's ReplicaService (which checks what the person
 * may send and take in), moving the vault onto the server with progress, live sync from the
 * server's stream, a new desktop's audit history taken in the background (history-runner.ts),
 * signing out. The session lives in the OS keychain and servers.json exactly as
 * the CLI keeps it, so the two share it.
 * Must never: keep a password or code past the call that carries it, put one in a result or a
 * log, pin a certificate or move a vault without the door's own confirmation (confirm.ts: the
 * page's word is not enough), or leave a timer or a stream running after `stop()` (the router
 * calls it on lock and close).
 */
import path from 'node:path';
import type { TeamStatus, TeamSyncOutcome } from '../../shared/api/team-contract';
import { CrewvaultError, isCrewvaultError } from '../../shared/errors';
import { configPath } from '../config';
import type { ServerCodeSource } from '../vault/codes-service';
import type { VaultSession } from '../vault/service';
import { certificateWords, NO_CONFIRMATIONS, type TrustConfirmations } from './confirm';
import { boundTo, DeskBindings } from './desk-bindings';
import { serverPlace, type ServerPlace } from './profiles';
import { HistoryRunner } from './history-runner';
import type * as SignInModule from './sign-in';
import type { HandedOver } from './server-codes';
import type * as SyncModule from './sync';
import { syncToldLines } from './sync-told';
import type { EventStream } from './transport';
import type * as TransportModule from './transport';

/** Live sync's waits, injectable so tests move time themselves. */
export interface LiveTimers {
  setInterval(run: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const REAL_TIMERS: LiveTimers = {
  setInterval: (run, ms) => setInterval(run, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** How often live sync sends this computer's own changes, and waits before opening a broken stream again (as `crewvault sync --watch`). */
const LOCAL_ROUND_MS = 30_000;
const RECONNECT_MS = 5_000;
/** A move pushes in parts of this many records (the server would take 20,000): the screen shows each part arrive. */
const MOVE_PART_RECORDS = 1_000;

export interface TeamDeskOptions {
  /** Where sessions are kept; by default the CLI's (the app's config folder, the `crewvault-server` keychain service). */
  readonly place?: ServerPlace;
  readonly now: () => number;
  readonly timers?: LiveTimers;
  /** The door's own question before a certificate is pinned or a vault moved (confirm.ts); without one, neither happens. */
  readonly confirm?: TrustConfirmations;
}

interface Modules {
  readonly transport: typeof TransportModule;
  readonly signIn: typeof SignInModule;
  readonly sync: typeof SyncModule;
}

/** The vault user a sign-in or a server session is for (desk-bindings.ts). */
interface VaultUser {
  readonly vaultId: string;
  readonly userId: number;
}

async function vaultUserOf(session: VaultSession): Promise<VaultUser> {
  // Promise.resolve: the replica's reads may be synchronous or not (the vault's services are turning async).
  return { vaultId: await Promise.resolve(session.replica.vaultId()), userId: session.user.id };
}

/** A server session that is not this vault user's is, to them, no session at all. */
function notSignedIn(): CrewvaultError {
  return new CrewvaultError('NOT_FOUND', 'Not signed in to a team server as this vault user: sign in on the Team server screen.');
}

interface Pending {
  readonly flow: SignInModule.ServerSignIn;
  readonly owner: VaultUser;
  /** The desk's lock count when it began: a sign-in overtaken by a lock says LOCKED, by a cancel or another sign-in CONFLICT. */
  readonly locks: number;
  destination?: string;
}

interface LiveState {
  readonly generation: number;
  readonly session: VaultSession;
  readonly interval: unknown;
  stream?: EventStream;
  reconnect?: unknown;
  /** A round asked for by the stream or the timer and not started yet: one is enough. */
  queued: boolean;
}

export class TeamDesk {
  private modules: Promise<Modules> | undefined;
  private pending: Pending | undefined;
  /** Moves on at every lock, cancel, sign-out and new sign-in: a sign-in whose awaits it outlived is given up, not kept. */
  private epoch = 0;
  /** Moves on at every lock: a round queued before it does not run. */
  private locks = 0;
  private certificate: NonNullable<TeamStatus['certificate']> | undefined;
  private lastSync: TeamSyncOutcome | null = null;
  private progress: TeamStatus['progress'] = null;
  private queue: Promise<unknown> = Promise.resolve();
  private live: LiveState | undefined;
  private generation = 0;
  private readonly timers: LiveTimers;

  /** A new desktop's audit history, taken in the background (history-runner.ts) through this vault user's kept session. */
  private readonly history: HistoryRunner;

  constructor(private readonly options: TeamDeskOptions) {
    this.timers = options.timers ?? REAL_TIMERS;
    this.history = new HistoryRunner({ timers: this.timers, now: options.now, client: (session) => this.keptClient(session) });
    // The folder the app's config.json sits in: the CLI's servers.json, unless CREWVAULT_CONFIG moves it.
    this.placeKept = options.place ?? serverPlace(process.env, path.dirname(configPath(process.env)));
    this.bindings = new DeskBindings(this.placeKept.profiles.dir);
  }

  private readonly bindings: DeskBindings;

  /** The OPAQUE and TLS code loads on the first team call only. */
  private load(): Promise<Modules> {
    this.modules ??= Promise.all([import('./transport'), import('./sign-in'), import('./sync')]).then(([transport, signIn, sync]) => ({ transport, signIn, sync }));
    return this.modules;
  }

  /** Where sessions are kept: reading it (team.status) loads no OPAQUE or TLS code. */
  private readonly placeKept: ServerPlace;

  /** What each vault session handed the server of its server-computed codes' keys (server-codes.ts HandedOver). */
  private readonly handed = new WeakMap<VaultSession, HandedOver>();

  private place(): Promise<ServerPlace> {
    return Promise.resolve(this.placeKept);
  }

  /** The kept server session's origin and profile when it is this vault user's; NOT_FOUND otherwise. */
  private async mine(session: VaultSession): Promise<{ origin: string; profile: ReturnType<ServerPlace['profiles']['resolve']>['profile'] }> {
    const place = await this.place();
    const { origin, profile } = place.profiles.resolve(undefined);
    const { vaultId, userId } = await vaultUserOf(session);
    if (!boundTo(this.bindings.get(origin), profile.username, vaultId, userId)) throw notSignedIn();
    return { origin, profile };
  }

  /** This vault user's kept server session's client (NOT_FOUND when they are not signed in to one). */
  private async keptClient(session: VaultSession): Promise<SignInModule.KeptSession['client']> {
    const m = await this.load();
    const { origin } = await this.mine(session);
    return (await m.signIn.keptSession(await this.place(), origin, this.options.now, 'sign in again to')).client;
  }

  /**
   * The vault was unlocked (router.ts): a history a first sync left owed (the app closed or locked
   * mid-way) goes on from its cursor, in the background. Never throws: a failure is in the status.
   */
  unlocked(session: VaultSession): void {
    void this.history.kick(session).catch(() => undefined);
  }

  status(session: VaultSession): Promise<TeamStatus> {
    return this.outward(() => this.statusNow(session));
  }

  private async statusNow(session: VaultSession): Promise<TeamStatus> {
    const place = await this.place();
    let connected: TeamStatus['connected'] = null;
    try {
      const { origin, profile } = await this.mine(session);
      // A profile whose session the keychain no longer holds is signed out (expired, or `crewvault logout`).
      if ((await place.keeper.get(origin, profile.username).catch(() => undefined)) !== undefined) {
        connected = { server: origin, user: profile.username, deviceId: profile.deviceId, signedInAt: profile.signedInAt };
      }
    } catch (error) {
      if (!isCrewvaultError(error) || error.code !== 'NOT_FOUND') throw error;
    }
    const mineNow = await vaultUserOf(session);
    // A sign-in begun by another vault user (dropped at lock in any case) is not shown to this one.
    const pending = this.pending !== undefined && this.pending.owner.vaultId === mineNow.vaultId && this.pending.owner.userId === mineNow.userId ? this.pending : undefined;
    const step = pending?.flow.step;
    return {
      connected,
      signIn: pending && step !== undefined && step !== 'done'
        ? { server: pending.flow.origin, user: pending.flow.user.username, step, ...(pending.destination === undefined ? {} : { destination: pending.destination }) }
        : null,
      certificate: this.certificate ?? null,
      lastSync: this.lastSync,
      progress: this.progress,
      live: this.live !== undefined,
      history: await this.history.status(session),
    };
  }

  /** The error for a sign-in something else overtook while it waited on the server. */
  private overtaken(locks: number): CrewvaultError {
    return this.own(locks !== this.locks
      ? new CrewvaultError('LOCKED', 'The vault locked while the team server answered: that sign-in was given up and nothing was kept.')
      : new CrewvaultError('CONFLICT', 'That sign-in to the team server was cancelled or begun again: nothing was kept from it.'));
  }

  /** Errors the desk itself raises about the vault's session (LOCKED): the only ones that may reach the page with that code. */
  private readonly ownErrors = new WeakSet<object>();

  private own(error: CrewvaultError): CrewvaultError {
    this.ownErrors.add(error);
    return error;
  }

  /**
   * What leaves a team call. LOCKED and PASSWORD_CHANGE_REQUIRED send the page to the vault's
   * sign-in or change-password screen with the message; said by the server (any code it likes,
   * any words: printable, but its own) or by the keychain, they are the Team server screen's
   * errors instead, so a server cannot put its text on the vault's own sign-in screen.
   */
  private async outward<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isCrewvaultError(error) && (error.code === 'LOCKED' || error.code === 'PASSWORD_CHANGE_REQUIRED') && !this.ownErrors.has(error)) {
        throw new CrewvaultError('SERVER_UNREACHABLE', `The team connection failed (${error.code}): ${error.message}`);
      }
      throw error;
    }
  }

  /**
   * Registers or signs in as `session`'s vault user; a certificate no authority vouches for is
   * shown and nothing sent until called again with `trustFingerprint`, which must be the
   * fingerprint this process showed for that server (not one the page chose).
   */
  connect(input: { url: string; username: string; password: string; invite?: string | undefined; trustFingerprint?: string | undefined }, session: VaultSession): Promise<TeamStatus> {
    return this.outward(() => this.connectNow(input, session));
  }

  private async connectNow(input: { url: string; username: string; password: string; invite?: string | undefined; trustFingerprint?: string | undefined }, session: VaultSession): Promise<TeamStatus> {
    const m = await this.load();
    const place = await this.place();
    const url = m.transport.parseServerUrl(input.url);
    const owner = await vaultUserOf(session);
    let wanted: string | undefined;
    if (input.trustFingerprint !== undefined && url.protocol === 'https:') {
      wanted = m.transport.normaliseFingerprint(input.trustFingerprint);
      if (wanted === undefined) throw new CrewvaultError('INVALID_INPUT', 'A certificate fingerprint is 64 hex digits (SHA-256), with or without colons.');
      // Only the certificate shown here may be confirmed: a fingerprint the page computed itself skips the comparison.
      const shown = this.certificate;
      if (shown === undefined || shown.server !== url.origin || shown.fingerprint !== wanted) {
        throw new CrewvaultError('SERVER_UNTRUSTED', `${url.host}'s certificate was not shown here with that fingerprint: nothing was sent or pinned. Compare the one shown`);
      }
    }
    const epoch = ++this.epoch;
    const locks = this.locks;
    await this.dropSignIn();
    this.certificate = undefined;
    // The system clock, as TLS itself judges a certificate's dates.
    const judged = await m.signIn.judgeCertificate(url, place.profiles.get(url.origin)?.trust, wanted, Date.now(), place.transport);
    if (epoch !== this.epoch) throw this.overtaken(locks);
    if (judged.kind === 'refused') throw judged.error;
    if (judged.kind === 'trusted' && judged.pinnedNow !== undefined) {
      // The page compared the fingerprint; the door asks the person too, outside the page, before anything is sent or pinned.
      const presented = judged.pinnedNow;
      const yes = await (this.options.confirm ?? NO_CONFIRMATIONS).confirm({
        kind: 'pin-certificate', server: url.origin, fingerprint: presented.fingerprint256, subject: presented.subject, validTo: presented.validTo.getTime(),
      });
      if (epoch !== this.epoch) throw this.overtaken(locks);
      if (!yes) throw new CrewvaultError('SERVER_UNTRUSTED', `${url.host}'s certificate was not confirmed on this computer: nothing was sent or pinned`);
    }
    if (judged.kind === 'confirm') {
      const { presented } = judged;
      this.certificate = { server: url.origin, fingerprint: presented.fingerprint256, subject: presented.subject, validTo: presented.validTo.getTime() };
      return this.status(session);
    }
    this.stopLive();
    const flow = await m.signIn.ServerSignIn.begin(place, {
      url, trust: judged.trust, username: input.username, password: input.password, ...(input.invite === undefined ? {} : { invite: input.invite }),
    });
    if (epoch !== this.epoch) {
      // Locked, cancelled or begun again meanwhile: the half-done session ends on the server; nothing waits here.
      await flow.abandon();
      throw this.overtaken(locks);
    }
    const pending: Pending = { flow, owner, locks };
    this.pending = pending;
    await this.afterAnswer(pending);
    return this.status(session);
  }

  /** What comes after each answer: the e-mailed code sent for a new device, or the session kept (as this vault user's) once done. */
  private async afterAnswer(pending: Pending): Promise<void> {
    if (this.pending !== pending) throw this.overtaken(pending.locks);
    if (pending.flow.step === 'device' && pending.destination === undefined) pending.destination = await pending.flow.emailSend();
    if (pending.flow.step === 'done') {
      if (this.pending !== pending) throw this.overtaken(pending.locks);
      this.pending = undefined;
      const { origin, user } = await pending.flow.finish(this.options.now());
      this.bindings.set(origin, { username: user.username, vaultId: pending.owner.vaultId, userId: pending.owner.userId });
    }
  }

  private requirePending(session: VaultSession): Promise<Pending> {
    return vaultUserOf(session).then((me) => {
      const pending = this.pending;
      if (!pending || pending.owner.vaultId !== me.vaultId || pending.owner.userId !== me.userId) {
        throw new CrewvaultError('INVALID_INPUT', 'Sign in to the team server with your password first.');
      }
      return pending;
    });
  }

  /** A sign-in the server ended (too many wrong codes, too slow) is dropped: the person starts again. */
  private async guarded<T>(pending: Pending, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isCrewvaultError(error) && (error.code === 'UNAUTHORIZED' || error.code === 'TOO_MANY_ATTEMPTS') && this.pending === pending) this.pending = undefined;
      throw error;
    }
  }

  secondStep(answer: SignInModule.SecondStepAnswer, session: VaultSession): Promise<TeamStatus> {
    return this.outward(() => this.secondStepNow(answer, session));
  }

  private async secondStepNow(answer: SignInModule.SecondStepAnswer, session: VaultSession): Promise<TeamStatus> {
    const pending = await this.requirePending(session);
    await this.guarded(pending, async () => {
      await pending.flow.answer(answer);
      await this.afterAnswer(pending);
    });
    return this.status(session);
  }

  enrolStart(session: VaultSession): Promise<{ uri: string; secret: string }> {
    return this.outward(() => this.enrolStartNow(session));
  }

  private async enrolStartNow(session: VaultSession): Promise<{ uri: string; secret: string }> {
    const pending = await this.requirePending(session);
    return this.guarded(pending, () => pending.flow.enrolStart());
  }

  enrolConfirm(code: string, session: VaultSession): Promise<{ recoveryCodes: string[]; status: TeamStatus }> {
    return this.outward(() => this.enrolConfirmNow(code, session));
  }

  private async enrolConfirmNow(code: string, session: VaultSession): Promise<{ recoveryCodes: string[]; status: TeamStatus }> {
    const pending = await this.requirePending(session);
    const done = await this.guarded(pending, async () => {
      const confirmed = await pending.flow.enrolConfirm(code);
      await this.afterAnswer(pending);
      return confirmed;
    });
    return { recoveryCodes: [...done.recoveryCodes], status: await this.status(session) };
  }

  emailSend(session: VaultSession): Promise<TeamStatus> {
    return this.outward(() => this.emailSendNow(session));
  }

  private async emailSendNow(session: VaultSession): Promise<TeamStatus> {
    const pending = await this.requirePending(session);
    const destination = await this.guarded(pending, () => pending.flow.emailSend());
    if (this.pending !== pending) throw this.overtaken(pending.locks);
    pending.destination = destination;
    return this.status(session);
  }

  cancel(session: VaultSession): Promise<TeamStatus> {
    return this.outward(() => this.cancelNow(session));
  }

  private async cancelNow(session: VaultSession): Promise<TeamStatus> {
    this.epoch++;
    this.certificate = undefined;
    await this.dropSignIn();
    return this.status(session);
  }

  private async dropSignIn(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    await pending?.flow.abandon();
  }

  /** One round now (after any running one): others' changes in, this vault's out. */
  /**
   * Where this vault user's codes of a group set to "server computes codes" come from: the team
   * server, through their kept server session (codes-service.ts asks it only when they hold no
   * secret key of the group). Not through `outward`: a code is asked for every few seconds and
   * waits for no sync round.
   */
  serverCodeSource(session: VaultSession): ServerCodeSource {
    return async (vault, entry) => {
      const m = await this.load();
      const { origin } = await this.mine(session);
      const { client } = await m.signIn.keptSession(await this.place(), origin, this.options.now, 'sign in again to');
      return client.call('codes', { vault, entry });
    };
  }

  /**
   * A sync round; on a vault not bound to this server (never moved there nor filled from it) it
   * pushes nothing (sync.ts requireBound) and, for the owner, becomes a move, asking the door as a
   * move does: a vault leaves for a server only by a confirmed move.
   */
  sync(session: VaultSession): Promise<TeamStatus> {
    const locks = this.locks;
    return this.outward(async () => {
      try {
        return await this.round(session, false);
      } catch (error) {
        const m = await this.load();
        if (!(error instanceof m.sync.NotMovedHere) || session.user.role !== 'owner') throw error;
        return this.confirmedMove(session, locks);
      }
    });
  }

  /** The vault's owner moves the whole vault onto the server (the first push of everything). */
  move(session: VaultSession): Promise<TeamStatus> {
    if (session.user.role !== 'owner') throw new CrewvaultError('FORBIDDEN', 'Only the vault\'s owner moves it to a team server.');
    return this.outward(() => this.confirmedMove(session, this.locks));
  }

  /** `locks`: the count when the call began; a lock since (the idle lock, at the question or before it) moves nothing. */
  private async confirmedMove(session: VaultSession, locks: number): Promise<TeamStatus> {
    // Asked by the door, outside the page: the page's "confirm" alone moves nothing.
    if (locks !== this.locks) throw this.own(new CrewvaultError('LOCKED', 'The vault locked before the move was asked about: nothing was sent.'));
    const { origin, profile } = await this.mine(session);
    const yes = await (this.options.confirm ?? NO_CONFIRMATIONS).confirm({ kind: 'move-vault', server: origin, certificate: certificateWords(profile.trust) });
    // The vault locked while the question was open (the idle lock counts that time): a later yes moves nothing.
    if (locks !== this.locks) throw this.own(new CrewvaultError('LOCKED', 'The vault locked while the move waited for its confirmation: nothing was sent.'));
    if (!yes) throw new CrewvaultError('FORBIDDEN', 'The move was not confirmed on this computer: nothing was sent.');
    return this.round(session, true);
  }

  private round(session: VaultSession, move: boolean): Promise<TeamStatus> {
    const locks = this.locks;
    const run = async (): Promise<void> => {
      // A round queued behind another when the vault locked does not run on the locked session.
      if (locks !== this.locks) throw this.own(new CrewvaultError('LOCKED', 'The vault locked before this sync round began: nothing was sent.'));
      const m = await this.load();
      const place = await this.place();
      this.progress = { moving: move, sent: 0, total: 0, taken: 0 };
      try {
        // Only this vault user's server session: never one another vault user signed in on this desktop.
        const { origin } = await this.mine(session);
        const { client } = await m.signIn.keptSession(place, origin, this.options.now, 'sign in again to');
        // A first sync's audit history is left to the background (history-runner.ts): the vault is usable once its state is in.
        const out = await m.sync.syncOnce(client, session.replica, { move, history: 'later', ...(move ? { partRecords: MOVE_PART_RECORDS } : {}), onProgress: (p) => { this.progress = { moving: move, ...p }; } });
        // Beside the entries: the TOTP keys of groups set to "server computes codes", sealed to the server (server-codes.ts).
        const { handOverServerCodes, nothingHandedOver } = await import('./server-codes');
        let handed = this.handed.get(session);
        if (handed === undefined) {
          handed = nothingHandedOver();
          this.handed.set(session, handed);
        }
        await handOverServerCodes(client, session, handed);
        this.lastSync = { ok: true, at: this.options.now(), moved: move, taken: out.applied, sent: out.pushed, conflictCopies: out.conflictCopies, setAside: out.held, accessRemoved: out.accessRemoved.map((r) => r.group), told: syncToldLines(out), ...(out.historyChanged === undefined ? {} : { historyChanged: out.historyChanged }) };
        // The server answered: a history owed goes on now (a wait after a failure is cut short).
        if (locks === this.locks) void this.history.kick(session, true).catch(() => undefined);
      } catch (error) {
        const known = isCrewvaultError(error) ? error : new CrewvaultError('INTERNAL', 'The sync round failed unexpectedly.');
        this.lastSync = { ok: false, at: this.options.now(), code: known.code, message: known.message };
        if (known.code === 'UNAUTHORIZED') this.stopLive();
        throw known;
      } finally {
        this.progress = null;
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next.then(() => this.status(session));
  }

  /** Live sync on or off: the server's stream starts a round whenever others changed something, and a timer sends this computer's own. */
  setLive(on: boolean, session: VaultSession): Promise<TeamStatus> {
    return this.outward(() => this.setLiveNow(on, session));
  }

  private async setLiveNow(on: boolean, session: VaultSession): Promise<TeamStatus> {
    this.stopLive();
    if (!on) return this.status(session);
    if ((await this.status(session)).connected === null) throw notSignedIn();
    const generation = ++this.generation;
    const state: LiveState = {
      generation, session, queued: false,
      interval: this.timers.setInterval(() => this.liveRound(state), LOCAL_ROUND_MS),
    };
    this.live = state;
    await this.openLive(state);
    return this.status(session);
  }

  private current(state: LiveState): boolean {
    return this.live === state && state.generation === this.generation;
  }

  private liveRound(state: LiveState): void {
    if (!this.current(state) || state.queued) return;
    state.queued = true;
    const run = (): void => {
      state.queued = false;
    };
    // A failed live round is in lastSync; the next event or tick tries again.
    void this.queue.then(run).then(() => (this.current(state) ? this.round(state.session, false) : undefined)).catch(() => undefined);
  }

  private async openLive(state: LiveState): Promise<void> {
    if (!this.current(state)) return;
    state.reconnect = undefined;
    try {
      const m = await this.load();
      const { origin } = await this.mine(state.session);
      const { client } = await m.signIn.keptSession(await this.place(), origin, this.options.now, 'sign in again to');
      // Promise.resolve: the replica's reads may be synchronous or not (the vault's services are turning async).
      const vault = await Promise.resolve(state.session.replica.vaultId());
      const stream = await client.openSyncStream(vault, (seq) => {
        if (!this.current(state)) return;
        void Promise.resolve(state.session.replica.pulledUpTo()).then((held) => {
          if (seq > held) this.liveRound(state);
        }, () => undefined);
      });
      if (!this.current(state)) {
        stream.close();
        return;
      }
      state.stream = stream;
      // The server ends a stream when its access token runs out: opened again with a fresh one.
      void stream.ended.then(() => {
        if (this.current(state) && state.stream === stream) {
          state.stream = undefined;
          state.reconnect = this.timers.setTimeout(() => void this.openLive(state), RECONNECT_MS);
        }
      });
    } catch (error) {
      if (!this.current(state)) return;
      if (isCrewvaultError(error) && (error.code === 'UNAUTHORIZED' || error.code === 'NOT_FOUND' || error.code === 'LOCKED')) {
        this.lastSync = { ok: false, at: this.options.now(), code: error.code, message: error.message };
        this.stopLive();
        return;
      }
      state.reconnect = this.timers.setTimeout(() => void this.openLive(state), RECONNECT_MS);
    }
  }

  private stopLive(): void {
    const state = this.live;
    this.live = undefined;
    this.generation++;
    if (!state) return;
    this.timers.clearInterval(state.interval);
    if (state.reconnect !== undefined) this.timers.clearTimeout(state.reconnect);
    state.stream?.close();
  }

  /** Signs this vault user's session out of the server (as `crewvault logout`): live sync stops, the keychain's session goes. */
  signOut(session: VaultSession): Promise<TeamStatus> {
    return this.outward(() => this.signOutNow(session));
  }

  private async signOutNow(session: VaultSession): Promise<TeamStatus> {
    this.stopLive();
    this.history.pause();
    this.epoch++;
    await this.dropSignIn();
    const { origin } = await this.mine(session);
    const m = await this.load();
    try {
      await m.signIn.signOutOfServer(await this.place(), origin, this.options.now);
    } finally {
      this.bindings.remove(origin);
    }
    return this.status(session);
  }

  /**
   * The vault locked or closed: live sync stops, a sign-in in progress is dropped (one still
   * waiting on the server is given up when it answers), a queued round does not run, and what
   * the last round did is forgotten (the next vault user is not told). The kept session stays
   * (as the CLI's does), usable only by the vault user it was signed in for.
   */
  stop(): void {
    this.stopLive();
    this.history.pause();
    this.epoch++;
    this.locks++;
    this.certificate = undefined;
    this.lastSync = null;
    void this.dropSignIn();
  }
}
