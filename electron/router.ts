/**
 * [Note: IPC contract] The router: the one place every door (Electron IPC, the browser host)
 * sends a call. In order: the method must be in shared/api/contract.ts; its input is parsed
 * from `unknown` (INVALID_INPUT, nothing changed); the session must be open and not idle
 * (LOCKED); the sign-in must be complete (vault/sign-in-flow.ts: a required authenticator set
 * up, a one-time password replaced); the role must allow it, by the same shared/policy table the
 * UI reads (FORBIDDEN); then the vault service runs it, auditing as it goes. Every reply is
 * `{ ok, value | error }`, and no error carries a secret, a key or ciphertext. No business rule
 * lives in a door: the second step, the fresh proof and the one-time-password gate are the
 * vault's (sign-in-flow.ts), shared with the CLI.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import type { z } from 'zod';
import { CONTRACT, isMethodName, secretPermission, type Contract, type CopyResult, type MethodName, type MethodResult, type MfaStatus, type SessionState } from '../shared/api/contract';
import type { Reply } from '../shared/api/reply';
import { packTable } from '../shared/entry-table';
import type { ClipboardGuard } from '../shared/clipboard';
import { CrewvaultError, type ErrorCode } from '../shared/errors';
import type { EntryChanges, EntryInput, OtpInput, UiSettings } from '../shared/model';
import { resolveOtpSpec, type OtpSpec } from '../shared/otp';
import { oneLine } from '../shared/text';
import { webUrl } from '../shared/web-url';

import { deviceAccount, type DeviceStore } from './devices';
import { HandedOut } from './handed-out';
import { TeamAdminDesk } from './team/admin-desk';
import { TeamDesk, type TeamDeskOptions } from './team/desk';
import { Transfers } from './transfers';
import { translateSqliteError } from './vault/db';
import { EMERGENCY_CODE_MS } from './vault/mfa';
import { DEFAULT_SETTINGS, type Clock, type VaultSession } from './vault/service';
import { admitSession, beginSetUp, mustSetUpAuthenticator, proveItIsYou, proveToActOnOthers, SignInAttempt, type DoorWords } from './vault/sign-in-flow';
import { createVault, Vault, type KdfOptions } from './vault/vault';

export interface RouterOptions {
  /** The vault file to start with; "vault.open" may switch to another. */
  readonly vaultPath: string;
  /** Told each time a vault is opened or created through a door, to remember it. */
  readonly onVaultOpened?: (file: string) => void;
  readonly clock: Clock;
  /** Electron writes the clipboard in the main process; the browser host's page writes its own. */
  readonly clipboard: { readonly kind: 'main'; readonly guard: ClipboardGuard } | { readonly kind: 'page' };
  /** Argon2 settings for a vault created through `vault.create` (tests pass cheap ones). */
  readonly kdf?: KdfOptions;
  /** Where the router notes failures it did not expect (names only, never messages). */
  readonly log?: (line: string) => void;
  /** The OS keychain for trusted computers; without one, every sign-in asks for the code. */
  readonly devices?: DeviceStore;
  /** What this computer is called in the list of trusted computers. */
  readonly deviceLabel?: string;
  /** The door's native "open file" dialog (Electron); undefined when cancelled. Without one,
   * the UI asks for a path instead. */
  readonly pickVaultFile?: () => Promise<string | undefined>;
  /** The door's native "save file" dialog (Electron), offering `suggested` as the name;
   * undefined when cancelled. Without one, the UI asks for a full path. */
  readonly pickSaveFile?: (suggested: string) => Promise<string | undefined>;
  /** The door's way to open an http(s) address in the system browser (Electron: shell.openExternal).
   * Called only with an address shared/web-url.ts let through; without one the page opens it. */
  readonly openExternal?: (url: string) => Promise<void>;
  /** The UI's own settings on this computer (electron/config.ts); without them, the defaults. */
  readonly ui?: { read(): UiSettings; write(settings: UiSettings): void };
  /** The team server's session place and live-sync timers (team/desk.ts); by default the CLI's place and real timers. */
  readonly team?: Omit<TeamDeskOptions, 'now'>;
}

type Input<M extends MethodName> = z.output<Contract[M]['input']>;
type Handlers = { readonly [M in MethodName]: (input: Input<M>, session: VaultSession | undefined) => Promise<MethodResult<M>> | MethodResult<M> };

/** The "how" of each sign-in answer, in the app's terms (the rules are sign-in-flow.ts's). */
const WORDS: DoorWords = {
  giveCode: 'enter the code from your app, a recovery code or an emergency code',
  setUpAuthenticator: 'set up an authenticator',
  choosePassword: 'choose your own',
};

function failure(code: ErrorCode, message: string, retryAfterSeconds?: number): Reply<never> {
  return { ok: false, error: { code, message: oneLine(message), ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) } };
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'The request is not valid.';
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  // zod names an unknown field ("Unrecognized key: …"): text the caller sent, not echoed back.
  if (issue.code === 'unrecognized_keys') return `${where}a field this method does not take.`;
  return `${where}${issue.message}`;
}

function toOtpInput(spec: OtpSpec | null | undefined): OtpInput | null | undefined {
  if (spec === null || spec === undefined) return spec;
  const resolved = resolveOtpSpec(spec);
  return resolved.issuer ? { params: resolved.params, issuer: resolved.issuer } : { params: resolved.params };
}

/** One call a person made, under way (Router.asWork): whose, since when (its start or its last dialog answered), and how many door dialogs it is at. */
interface Work {
  readonly session: VaultSession;
  since: number;
  atDialog: number;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export class Router {
  private readonly options: RouterOptions;
  private vault: Vault | undefined;
  private session: VaultSession | undefined;
  /** Password right, second step due: the session is held here, unusable, until it is done. */
  private pending: SignInAttempt | undefined;
  private vaultPath: string;
  private lastActivity = 0;
  /**
   * Calls a person made that are under way: time one spends working is not idle time, so the
   * idle lock does not cut short a call that began in time (#15); time it spends at a door
   * dialog or question is, as at the CLI agent's prompts (nobody may be at the computer), so a
   * dialog left open still locks the vault on time. A call holds the lock off for one more idle
   * period at most (it locks two idle periods after the call began, or after its last dialog was
   * answered): a wait nobody answers (an OS keychain prompt, a connection that never ends)
   * cannot hold the vault open.
   */
  private readonly working = new Set<Work>();
  /** The call a door dialog is opened in, so the dialog counts for that call alone. */
  private readonly inCall = new AsyncLocalStorage<Work>();
  /** The trusted-computer row this session came in through, or was trusted by: never forgotten from here. */
  private deviceInUse: number | undefined;
  /** Set when the keychain failed: the "trust this computer" choice is then not offered. */
  private keychainBroken = false;
  /** Import, backup and export (transfers.ts); files on their way in are wiped when the session locks. */
  private readonly transfers: Transfers;
  /** The team server screen's connection (team.*): stopped whenever the session locks. */
  private readonly team: TeamDesk;
  /** The server administration screens (teamAdmin.*): the Team server screen's session, the server's rules. */
  private readonly teamAdmin: TeamAdminDesk;

  constructor(options: RouterOptions) {
    this.options = options;
    this.vaultPath = options.vaultPath;
    // Every door dialog a call can wait at is counted as waiting on the person (`working`).
    const confirm = options.team?.confirm;
    this.team = new TeamDesk({ ...options.team, ...(confirm ? { confirm: { confirm: (question) => this.atTheDialog(() => confirm.confirm(question)) } } : {}), now: options.clock.now });
    this.teamAdmin = new TeamAdminDesk(this.team, { place: options.team?.place, now: options.clock.now });
    const pickSaveFile = options.pickSaveFile;
    this.transfers = new Transfers({ clock: options.clock, ...(options.kdf ? { kdf: options.kdf } : {}), ...(pickSaveFile ? { pickSaveFile: (suggested: string) => this.atTheDialog(() => pickSaveFile(suggested)) } : {}) });
  }

  /** Handles one call from any door. Never throws. */
  async call(method: string, input: unknown): Promise<Reply<unknown>> {
    if (!isMethodName(method)) return failure('UNKNOWN_METHOD', `Unknown method "${method.slice(0, 64)}".`);
    const spec = CONTRACT[method];
    const parsed = spec.input.safeParse(input ?? {});
    if (!parsed.success) return failure('INVALID_INPUT', describeIssue(parsed.error));
    try {
      await this.checkIdle();
      const session = await this.admit(method, spec.access);
      const handler = this.handlers[method] as (input: unknown, session: VaultSession | undefined) => unknown;
      const value = spec.activity && session && session === this.session ? await this.asWork(session, () => handler(parsed.data, session)) : await handler(parsed.data, session);
      return { ok: true, value };
    } catch (caught) {
      const error = translateSqliteError(caught);
      if (error instanceof CrewvaultError) return failure(error.code, error.message, error.retryAfterSeconds);
      this.options.log?.(`Router.call: ${method} failed unexpectedly (${error instanceof Error ? error.name : typeof error})`);
      return failure('INTERNAL', 'Crewvault hit an unexpected error; the request may not have completed.');
    }
  }

  /**
   * The session a call may use, or why not: LOCKED without a complete sign-in; then the vault's
   * sign-in rules (sign-in-flow.ts admitSession: a required authenticator, a one-time password),
   * before the role's permission, as the CLI asks them.
   */
  private async admit(method: MethodName, access: Contract[MethodName]['access']): Promise<VaultSession | undefined> {
    const session = this.session;
    // The session ended under this call (the account disabled, the password changed or the
    // second step reset elsewhere: VaultSession.recheck, which admitSession asks too): the
    // desktop locks, as an unlocked CLI session's agent ends.
    if (session) {
      try {
        await session.recheck();
      } catch (error) {
        if (!(error instanceof CrewvaultError && error.code === 'LOCKED')) throw error;
        if (this.session === session) this.lock();
        if (access === 'public') return undefined;
        throw error;
      }
    }
    // The policy came to require an authenticator this person lacks (changed while signed in):
    // back to the setup step, as their next sign-in (or CLI command) would be.
    if (session && await mustSetUpAuthenticator(session)) {
      // Another call may have locked or replaced the session while the vault was asked.
      if (this.session === session) {
        this.session = undefined;
        this.deviceInUse = undefined;
        this.pending = SignInAttempt.toSetUp(session, this.options.clock);
      }
      if (access !== 'public') await admitSession(session, 'anything', WORDS); // MFA_REQUIRED, saying why
      return undefined;
    }
    if (access === 'public') return session;
    if (!session) throw new CrewvaultError('LOCKED', 'The vault is locked: sign in again.');
    // clipboard.copy copies only text the page already shows (recovery codes just made at a
    // required setup, before a one-time password is replaced): no more than changing it reveals.
    await admitSession(session, method === 'session.changePassword' || method === 'clipboard.copy' ? 'change-password' : 'anything', WORDS);
    if (access !== 'session' && !(await session.permissions()).includes(access)) {
      throw new CrewvaultError('FORBIDDEN', `Your role may not do this (needs permission ${access}).`);
    }
    return session;
  }

  /** A person's call: its start and its end are use, and the time between is not idle unless at a dialog (`working`). */
  private async asWork<T>(session: VaultSession, run: () => T): Promise<Awaited<T>> {
    const work: Work = { session, since: this.options.clock.now(), atDialog: 0 };
    this.lastActivity = work.since;
    this.working.add(work);
    try {
      return await this.inCall.run(work, run);
    } finally {
      this.working.delete(work);
      if (this.session === session) this.lastActivity = this.options.clock.now();
    }
  }

  /** The door's dialogs and questions: time waiting on the person, for the call that opened them (`working`); outside one, nobody's. */
  private async atTheDialog<T>(open: () => Promise<T>): Promise<T> {
    const work = this.inCall.getStore();
    if (!work) return open();
    work.atDialog++;
    try {
      return await open();
    } finally {
      work.atDialog--;
      // An answer is use, as the call's start was (a session the lock ended meanwhile stays ended).
      work.since = this.options.clock.now();
      if (this.session === work.session) this.lastActivity = work.since;
    }
  }

  /** Locks when the session has been idle for the configured minutes. Doors call this on a timer too. */
  async checkIdle(): Promise<void> {
    const session = this.session;
    if (!session) return;
    const idleMs = (await session.settings()).idleLockMinutes * 60_000;
    const now = this.options.clock.now();
    const busy = [...this.working].some((work) => work.session === session && work.atDialog === 0 && now - work.since < 2 * idleMs);
    // Still the same session (a sign-in while the settings were read is not this one's to lock).
    if (this.session === session && idleMs > 0 && !busy && now - this.lastActivity >= idleMs) this.lock();
  }

  /** Wipes the session's keys (explicit lock, idle, OS lock screen, suspend). */
  lock(): void {
    this.team.stop();
    this.transfers.clear();
    this.session?.lock();
    this.session = undefined;
    this.deviceInUse = undefined;
    this.pending?.session.lock();
    this.pending = undefined;
    if (this.options.clipboard.kind === 'main') void this.options.clipboard.guard.clearNow();
  }

  /** Locks and closes the vault file (WAL checkpointed). */
  async close(): Promise<void> {
    this.lock();
    const vault = this.vault;
    this.vault = undefined;
    await vault?.close();
  }

  private openVault(): Vault {
    if (!this.vault) {
      this.vault = Vault.open(this.vaultPath, this.options.clock);
      this.options.onVaultOpened?.(this.vaultPath);
    }
    return this.vault;
  }

  private async state(): Promise<SessionState> {
    // What is read of the vault is read of the session and attempt as they are now, each once.
    const session = this.session;
    const pending = this.pending;
    const vault = { path: this.vaultPath, exists: this.vault !== undefined || existsSync(this.vaultPath), canPick: this.options.pickVaultFile !== undefined };
    return {
      vault,
      user: session ? session.user : null,
      permissions: session ? await session.permissions() : [],
      mustChangePassword: session ? await session.mustChangePassword() : false,
      pending: pending?.due ? { step: pending.due, username: pending.session.user.name, trustDays: await this.trustDays(pending.session) } : null,
      settings: session ? await session.settings() : { ...DEFAULT_SETTINGS, revision: 0 },
    };
  }

  private async signedIn(session: VaultSession, deviceInUse?: number): Promise<SessionState> {
    this.lock();
    this.session = session;
    this.deviceInUse = deviceInUse;
    this.lastActivity = this.options.clock.now();
    // A new desktop's audit history left owed (the app closed or locked mid-way) goes on in the background.
    this.team.unlocked(session);
    return this.state();
  }

  /** After a right password: straight in, or a second step (a code; or enrolment where required). */
  private async mfaStatus(session: VaultSession): Promise<MfaStatus> {
    return { ...(await session.mfa.status()), policy: (await session.mfa.policy()).mine };
  }

  private async passwordAccepted(session: VaultSession): Promise<SessionState> {
    this.lock();
    const attempt = await SignInAttempt.afterPassword(session, this.options.clock);
    if (!attempt.due) return this.signedIn(session);
    if (attempt.due === 'code') {
      const device = await this.trustedDevice(session);
      if (device !== undefined) return this.signedIn(session, device);
    }
    this.pending = attempt;
    return this.state();
  }

  /** Days a good code may trust this computer for; 0 when the vault says so or there is no keychain. */
  private async trustDays(session: VaultSession): Promise<number> {
    if (!this.options.devices || this.keychainBroken) return 0;
    return (await session.settings()).trustDeviceDays;
  }

  private async deviceAccount(session: VaultSession): Promise<string> {
    return deviceAccount(await this.openVault().id(), session.user.name);
  }

  /** This computer's trusted-device row for the person, if the keychain holds a live token for it. */
  private async trustedDevice(session: VaultSession): Promise<number | undefined> {
    const devices = this.options.devices;
    // Trust days set to 0 (say, during an incident) stops every trusted computer at once.
    const days = await this.trustDays(session);
    if (!devices || days < 1) return undefined;
    const account = await this.deviceAccount(session);
    let token: string | null;
    try {
      token = await devices.get(account);
    } catch (error) {
      this.keychainFailed('get', error);
      return undefined;
    }
    if (token === null) return undefined;
    // The days and the time again, by the vault, as the device is used (the keychain may have taken a while).
    const device = await session.mfa.useTrustedDevice(token);
    // Trusting turned off meanwhile: not used, and the token kept (as above, for when it is on again).
    if (device === 'off') return undefined;
    if (device === undefined) await devices.remove(account).catch((error: unknown) => this.keychainFailed('remove', error)); // expired, forgotten or reset
    return device;
  }

  /** After a good code with "trust this computer": a new token in the keychain, its hash in the vault. */
  private async trustThisDevice(session: VaultSession): Promise<number | undefined> {
    const devices = this.options.devices;
    const days = await this.trustDays(session);
    if (!devices || days < 1) return undefined;
    // The days again, by the vault, in the write that trusts the device (turned off meanwhile: nothing).
    const trusted = await session.mfa.trustDevice(this.options.deviceLabel ?? 'This computer');
    if (trusted === undefined) return undefined;
    const { id, token } = trusted;
    try {
      await devices.set(await this.deviceAccount(session), token);
      return id;
    } catch (error) {
      this.keychainFailed('set', error);
      await session.mfa.forgetDevice(id, undefined);
      return undefined;
    }
  }

  private keychainFailed(what: string, error: unknown): void {
    this.keychainBroken = true;
    this.options.log?.(`Router: the OS keychain failed (${what}: ${error instanceof Error ? error.name : typeof error}); trusted computers are off until restart`);
  }

  /**
   * One step of the sign-in waiting for its second step (sign-in-flow.ts decides); an attempt
   * that ran out of time or tries is dropped, and with it the session.
   */
  private async withPending<T>(step: (attempt: SignInAttempt) => Promise<T>): Promise<T> {
    const attempt = this.pending;
    if (!attempt) throw new CrewvaultError('LOCKED', 'Sign in with your password first.');
    try {
      return await step(attempt);
    } finally {
      if (attempt.over && this.pending === attempt) this.lock();
    }
  }

  /** The second step is done: the waiting session becomes the signed-in one. */
  private async pendingDone(attempt: SignInAttempt, deviceInUse?: number): Promise<SessionState> {
    // Another call dropped this attempt (a lock, a new sign-in) while its step ran: not signed in.
    if (this.pending !== attempt) throw new CrewvaultError('LOCKED', 'Sign in with your password first.');
    this.pending = undefined; // lock() must not end the session it is about to hold
    return this.signedIn(attempt.session, deviceInUse);
  }

  /** Electron: the main process writes the clipboard and clears it later; the browser host's page does both itself. */
  private async copy(value: string, clearAfterSeconds: number): Promise<CopyResult> {
    if (this.options.clipboard.kind === 'page') return { value, clearAfterSeconds };
    await this.options.clipboard.guard.copy(value, clearAfterSeconds);
    return { clearAfterSeconds };
  }

  /** Another vault, or a new one, only from the sign-in screen: a signed-in page lock first. */
  private requireSignedOut(): void {
    if (this.session || this.pending) throw new CrewvaultError('FORBIDDEN', 'Lock the vault first, then open or create another.');
  }

  /** Closes this vault and points at `file` (opened when it exists; else the next step creates it). */
  private async switchVault(file: string): Promise<SessionState> {
    this.requireSignedOut();
    if (!isAbsolute(file)) throw new CrewvaultError('INVALID_INPUT', 'Give the vault file as a full path.');
    const next = resolvePath(file);
    if (existsSync(next)) await Vault.open(next, this.options.clock).close(); // refuse a non-vault before letting go of this one
    await this.close();
    this.vaultPath = next;
    if (existsSync(next)) this.openVault();
    return this.state();
  }

  private requireSession(session: VaultSession | undefined): VaultSession {
    if (!session) throw new CrewvaultError('LOCKED', 'The vault is locked: sign in again.');
    return session;
  }

  private async requirePermission(session: VaultSession, what: 'password' | 'otpSecret' | 'otpCode'): Promise<void> {
    const permission = secretPermission(what);
    if (!(await session.permissions()).includes(permission)) throw new CrewvaultError('FORBIDDEN', `Your role may not do this (needs permission ${permission}).`);
  }

  /** What the page was handed to view this session: its copy goes through the vault's copy path (clipboard.copy). */
  private readonly handedOut = new HandedOut();

  /**
   * clipboard.copy: free text (recovery and emergency codes, a one-time password, a token the page
   * was shown once, a username) is copied as it is; a password or a time-based code the vault
   * handed out to view is copied by the vault's own copy path, audited as password.copy / otp.copy;
   * an HOTP code or an OTP key handed out to view is refused (an HOTP copy takes a code of its own).
   */
  private async copyText(value: string, s: VaultSession): Promise<CopyResult> {
    const handed = this.handedOut.find(s, value);
    const clearAfterSeconds = (await s.settings()).clipboardClearSeconds;
    if (handed === undefined) return this.copy(value, clearAfterSeconds);
    await admitSession(s, 'anything', WORDS);
    if (handed.kind === 'password') {
      await this.requirePermission(s, 'password');
      return this.copy(await s.revealPassword(handed.id, 'copy'), clearAfterSeconds);
    }
    if (handed.kind === 'totp') {
      await this.requirePermission(s, 'otpCode');
      return this.copy((await s.otpCode(handed.id, undefined, 'copy', this.team.serverCodeSource(s))).code, clearAfterSeconds);
    }
    throw new CrewvaultError('FORBIDDEN', handed.kind === 'hotp'
      ? 'Copy a counter-based code with its Copy button: the vault records the copy.'
      : 'An OTP key is not copied through the clipboard here: the vault records only its reveal.');
  }

  private readonly handlers: Handlers = {
    'session.state': () => this.state(),
    'vault.open': ({ path: file }) => this.switchVault(file),
    'vault.pick': async () => {
      if (!this.options.pickVaultFile) throw new CrewvaultError('INVALID_INPUT', 'There is no file dialog here: type the vault file\'s full path.');
      const pick = this.options.pickVaultFile;
      const file = await this.atTheDialog(() => pick());
      return file === undefined ? this.state() : this.switchVault(file);
    },
    'vault.create': async ({ username, password }) => {
      this.requireSignedOut();
      if (this.vault || existsSync(this.vaultPath)) throw new CrewvaultError('VAULT_EXISTS', 'A vault already exists here: sign in instead.');
      // Folders are made only for the path this door started with (the per-user default, or
      // what was given on the command line); a path typed into the page must be in a folder
      // that exists, so a call cannot make folders anywhere.
      const createFolder = resolvePath(this.vaultPath) === resolvePath(this.options.vaultPath);
      const session = await createVault(this.vaultPath, { owner: username, password, clock: this.options.clock, createFolder, ...(this.options.kdf ? { kdf: this.options.kdf } : {}) });
      await session.close();
      return this.signedIn(await this.openVault().signIn(username, password));
    },
    'session.signIn': async ({ username, password }) => this.passwordAccepted(await this.openVault().signIn(username, password)),
    'session.verifyCode': async ({ code, recoveryCode, emergencyCode, trustDevice }) => {
      const [attempt, kind] = await this.withPending(async (a) => [a, await a.answer({ code, recoveryCode, emergencyCode }, WORDS)] as const);
      // Only an authenticator code earns trust: a recovery or emergency code is for once.
      const device = trustDevice === true && kind === 'code' ? await this.trustThisDevice(attempt.session) : undefined;
      return this.pendingDone(attempt, device);
    },
    'ui.settings': () => this.options.ui?.read() ?? { theme: 'system' },
    'ui.setTheme': ({ theme }) => {
      this.options.ui?.write({ theme });
      return { theme };
    },
    'session.lock': () => {
      this.lock();
      return this.state();
    },
    'session.changePassword': async ({ current, next }, session) => {
      await this.requireSession(session).changePassword(current, next, this.options.kdf ?? {});
      return this.state();
    },
    'customers.list': (_input, session) => this.requireSession(session).listCustomers(),
    'entries.list': async (input, session) => packTable(await this.requireSession(session).listEntryTable(withoutUndefined(input))),
    'entries.get': ({ id }, session) => this.requireSession(session).getEntry(id),
    'entries.create': ({ otp, ...fields }, session) => {
      const otpInput = toOtpInput(otp);
      const input: EntryInput = withoutUndefined({ ...fields, otp: otpInput });
      return this.requireSession(session).createEntry(input);
    },
    'entries.update': ({ id, baseRevision, changes }, session) => {
      const { otp, ...fields } = changes;
      const update: EntryChanges = withoutUndefined({ ...fields, otp: toOtpInput(otp) });
      return this.requireSession(session).updateEntry(id, update, baseRevision);
    },
    'entries.delete': async ({ id, baseRevision }, session) => {
      await this.requireSession(session).deleteEntry(id, baseRevision);
      return { deleted: id };
    },
    'otp.code': async ({ id }, session) => {
      const s = this.requireSession(session);
      const result = await s.otpCode(id, undefined, 'view', this.team.serverCodeSource(s));
      this.handedOut.note(s, result.code, { id, kind: 'counter' in result ? 'hotp' : 'totp' });
      return 'counter' in result
        ? { kind: result.kind, code: result.code, next: result.next, counter: result.counter }
        : { kind: result.kind, code: result.code, next: result.next, period: result.period, remainingMs: result.remainingMs };
    },
    'secrets.reveal': async ({ id, what }, session) => {
      const s = this.requireSession(session);
      await this.requirePermission(s, what);
      if (what === 'password') {
        const password = await s.revealPassword(id);
        this.handedOut.note(s, password, { id, kind: 'password' });
        return { password };
      }
      const otp = await s.revealOtpSecret(id);
      this.handedOut.note(s, otp.secret, { id, kind: 'otpKey' });
      this.handedOut.note(s, otp.uri, { id, kind: 'otpKey' });
      return { otpSecret: otp.secret, otpUri: otp.uri };
    },
    'secrets.copy': async ({ id, what }, session) => {
      const s = this.requireSession(session);
      await this.requirePermission(s, what);
      const value = what === 'password' ? await s.revealPassword(id, 'copy') : (await s.otpCode(id, undefined, 'copy', this.team.serverCodeSource(s))).code;
      return this.copy(value, (await s.settings()).clipboardClearSeconds);
    },
    'clipboard.copy': async ({ text: value }, session) => this.copyText(value, this.requireSession(session)),
    'url.open': async ({ id }, session) => {
      const url = webUrl((await this.requireSession(session).getEntry(id)).url);
      if (url === undefined) throw new CrewvaultError('INVALID_INPUT', 'Only an http or https address opens in the browser.');
      if (!this.options.openExternal) return { opened: false, url };
      await this.options.openExternal(url);
      return { opened: true };
    },
    'audit.list': ({ limit }, session) => this.requireSession(session).auditLog(limit),
    'audit.export': ({ after, limit }, session) => this.requireSession(session).auditExportPage(after, limit),
    'groups.list': (_input, session) => this.requireSession(session).team.listGroups(),
    'groups.create': ({ name }, session) => this.requireSession(session).team.createGroup(name),
    'groups.members': ({ id }, session) => this.requireSession(session).team.members(id),
    'groups.grant': ({ id, username, lead, baseRevision }, session) => this.requireSession(session).team.grant(id, username, lead ?? false, baseRevision),
    'groups.revoke': async ({ id, username, baseRevision }, session) => {
      await this.requireSession(session).team.revoke(id, username, baseRevision);
      return { revoked: username };
    },
    'groups.candidates': ({ id }, session) => this.requireSession(session).team.candidates(id),
    'groups.setLead': ({ id, username, lead, baseRevision }, session) => this.requireSession(session).team.setLead(id, username, lead, baseRevision),
    'groups.rename': ({ id, name, baseRevision }, session) => this.requireSession(session).team.renameGroup(id, name, baseRevision),
    'groups.delete': ({ id, baseRevision }, session) => this.requireSession(session).team.deleteGroup(id, baseRevision),
    'groups.setServerCodes': ({ id, on, baseRevision }, session) => this.requireSession(session).team.setServerCodes(id, on, baseRevision),
    'groups.rotateKey': async ({ id }, session) => {
      await this.requireSession(session).team.rotateKey(id);
      return { rotated: true as const };
    },
    'entries.move': async ({ id, groupId, baseRevision }, session) => {
      await this.requireSession(session).team.moveEntry(id, groupId, baseRevision);
      return { moved: id };
    },
    'users.list': (_input, session) => this.requireSession(session).team.listUsers(),
    'users.create': ({ username, role, password }, session) => this.requireSession(session).createUser(username, role, password, this.options.kdf ?? {}),
    'users.disable': async ({ username, baseRevision }, session) => {
      await this.requireSession(session).team.disableUser(username, baseRevision);
      return { disabled: username };
    },
    'users.setRole': ({ username, role, baseRevision }, session) => this.requireSession(session).team.changeRole(username, role, baseRevision),
    'users.resetPassword': async ({ username, password, baseRevision }, session) => {
      await this.requireSession(session).team.resetPassword(username, password, baseRevision, this.options.kdf ?? {});
      return { reset: username };
    },
    'mfa.status': (_input, session) => this.mfaStatus(this.requireSession(session)),
    // Public in the contract (the setup step comes before a session is usable), so the sign-in
    // rules are asked here: the setup step's, or a signed-in session's.
    'mfa.begin': async (proof, session) => {
      if (!session) return this.withPending((attempt) => attempt.beginSetUp(WORDS));
      await admitSession(session, 'set-up', WORDS);
      return beginSetUp(session, proof, this.options.clock.now());
    },
    'mfa.confirm': async ({ code }, session) => {
      if (!session) {
        const [attempt, recoveryCodes] = await this.withPending(async (a) => [a, await a.confirmSetUp(code, WORDS)] as const);
        return { recoveryCodes, state: await this.pendingDone(attempt) };
      }
      await admitSession(session, 'confirm-set-up', WORDS);
      const recoveryCodes = await session.mfa.confirmEnrolment(code, this.options.clock.now());
      return { recoveryCodes, state: await this.state() };
    },
    // Turning MFA off, or new recovery codes (each one a way past the authenticator), only
    // after the person proves it is them again: an unlocked session left alone is not enough.
    'mfa.disable': async ({ code, password }, session) => {
      const s = this.requireSession(session);
      await proveItIsYou(s, { code, password }, 'turn two-step sign-in off', this.options.clock.now());
      await s.mfa.disable();
      return this.mfaStatus(s);
    },
    'mfa.regenerate': async ({ code, password }, session) => {
      const s = this.requireSession(session);
      await proveItIsYou(s, { code, password }, 'make new recovery codes', this.options.clock.now());
      return { recoveryCodes: await s.mfa.regenerateRecoveryCodes() };
    },
    'mfa.reset': async ({ username, code, password }, session) => {
      // Another person's second factor goes only after the admin proves it is them.
      const s = this.requireSession(session);
      await proveToActOnOthers(s, { code, password }, this.options.clock.now());
      await s.mfa.resetFor(username);
      return { reset: username };
    },
    'mfa.showKey': async ({ code, password }, session) => {
      // The key again (for a second phone) only after the person proves it is them again.
      const s = this.requireSession(session);
      await proveItIsYou(s, { code, password }, 'see the key again', this.options.clock.now());
      return s.mfa.currentSetup();
    },
    'mfa.emergency': async ({ username }, session) => ({
      code: await this.requireSession(session).mfa.issueEmergencyCode(username, this.options.clock.now()),
      expiresInSeconds: EMERGENCY_CODE_MS / 1000,
    }),
    'mfa.policy': async (_input, session) => {
      const { global, roles, revision } = await this.requireSession(session).mfa.policy();
      return { global, roles, revision };
    },
    'mfa.devices': async ({ username }, session) => ({
      devices: (await this.requireSession(session).mfa.devices(username, this.options.clock.now()))
        .map((device) => ({ ...device, current: username === undefined && device.id === this.deviceInUse })),
    }),
    'mfa.forgetDevice': async ({ id: deviceId }, session) => {
      await this.requireSession(session).mfa.forgetDevice(deviceId, this.deviceInUse);
      return { forgotten: deviceId };
    },
    'settings.update': ({ baseRevision, ...changes }, session) => this.requireSession(session).updateSettings(withoutUndefined(changes), baseRevision),
    'mfa.setPolicy': async ({ level, role, baseRevision }, session) => {
      const s = this.requireSession(session);
      await s.mfa.setPolicy(level, role, baseRevision);
      return this.mfaStatus(s);
    },
    'import.begin': ({ size }, session) => {
      this.requireSession(session);
      return this.transfers.begin(size);
    },
    'import.chunk': (input, session) => {
      this.requireSession(session);
      return this.transfers.chunk(input);
    },
    'import.preview': (input, session) => this.transfers.preview(this.requireSession(session), input),
    'import.commit': (input, session) => this.transfers.commit(this.requireSession(session), input),
    'import.cancel': ({ uploadId }, session) => {
      this.requireSession(session);
      return this.transfers.cancel(uploadId);
    },
    'vault.backup': (input, session) => this.transfers.backup(this.requireSession(session), this.vaultPath, input),
    'vault.export': (input, session) => this.transfers.export(this.requireSession(session), input),
    'roles.list': (_input, session) => this.requireSession(session).team.listRoles(),
    'roles.define': ({ name, permissions, baseRevision }, session) => this.requireSession(session).team.defineRole(name, permissions, baseRevision),
    // The team server (team/desk.ts): sync goes through the session's ReplicaService, which checks what may be sent and taken in.
    // Every team call is the signed-in vault user's: a server session or sign-in of another vault user on this desktop is not theirs to see or use.
    'team.status': (_input, session) => this.team.status(this.requireSession(session)),
    'team.connect': (input, session) => this.team.connect(input, this.requireSession(session)),
    'team.secondStep': (answer, session) => this.team.secondStep(answer, this.requireSession(session)),
    'team.enrolStart': (_input, session) => this.team.enrolStart(this.requireSession(session)),
    'team.enrolConfirm': ({ code }, session) => this.team.enrolConfirm(code, this.requireSession(session)),
    'team.emailSend': (_input, session) => this.team.emailSend(this.requireSession(session)),
    'team.cancel': (_input, session) => this.team.cancel(this.requireSession(session)),
    'team.sync': (_input, session) => this.team.sync(this.requireSession(session)),
    'team.move': (_input, session) => this.team.move(this.requireSession(session)),
    'team.live': ({ on }, session) => this.team.setLive(on, this.requireSession(session)),
    'team.signOut': (_input, session) => this.team.signOut(this.requireSession(session)),
    // Server administration (team/admin-desk.ts): the server decides who may; its refusal is the reply.
    'teamAdmin.overview': (_input, session) => this.teamAdmin.overview(this.requireSession(session)),
    'teamAdmin.mfaList': (_input, session) => this.teamAdmin.mfaList(this.requireSession(session)),
    'teamAdmin.mfaReset': (input, session) => this.teamAdmin.mfaReset(input, this.requireSession(session)),
    'teamAdmin.grant': (input, session) => this.teamAdmin.grant(input, this.requireSession(session)),
    'teamAdmin.external': (input, session) => this.teamAdmin.external(input, this.requireSession(session)),
    'teamAdmin.policy': (_input, session) => this.teamAdmin.policy(this.requireSession(session)),
    'teamAdmin.setPolicy': (input, session) => this.teamAdmin.setPolicy(input, this.requireSession(session)),
    'teamAdmin.setIdle': (input, session) => this.teamAdmin.setIdle(input, this.requireSession(session)),
    'teamAdmin.devices': ({ userId }, session) => this.teamAdmin.devices(userId, this.requireSession(session)),
    'teamAdmin.forgetDevice': (input, session) => this.teamAdmin.forgetDevice(input, this.requireSession(session)),
    'teamAdmin.tokens': (_input, session) => this.teamAdmin.tokens(this.requireSession(session)),
    'teamAdmin.createToken': (input, session) => this.teamAdmin.createToken(input, this.requireSession(session)),
    'teamAdmin.revokeToken': ({ id }, session) => this.teamAdmin.revokeToken(id, this.requireSession(session)),
  };
}
