/**
 * The one sign-in flow to a team server, shared by `crewvault login` (electron/cli/login.ts)
 * and the desktop's Team server screen (electron/team/desk.ts, through the router): how the
 * server's certificate is judged, OPAQUE registration or sign-in, each answer to the second
 * step the server asks for, and finishing (the person's key material opened, the session's
 * tokens into the OS keychain, the server's profile saved). Also the kept session (refreshed
 * one at a time) and signing out. The doors only ask the person and say what happened.
 * Must never: log or put in an error a password, code or token; pin a certificate the person
 * did not compare; keep a session the keychain cannot hold.
 */
import type { SecondStep, ServerUser, SessionTokens } from '../../shared/api/server-contract';
import { CrewvaultError, isCrewvaultError } from '../../shared/errors';
import { publicKeyFingerprint, rawPublicKey, type AccountKeys } from './account-keys';
import { TeamClient, type LoginAttempt } from './client';
import { printable } from './printable';
import { withServerLock, type ServerPlace, type ServerProfile } from './profiles';
import { presentedCertificate, type PresentedCertificate, type ServerTrust, type TransportOptions } from './transport';

// Where sessions are kept is profiles.ts's (the desktop reads it without loading OPAQUE); named here too for the doors.
export { serverPlace, type ServerPlace } from './profiles';

/** An access token this close to its end is refreshed before use. */
const SKEW_MS = 30_000;

/**
 * How a server's certificate stands before anything is sent:
 * - `trusted`: loopback http, an authority vouches, the pin kept from before, or the fingerprint
 *   the person compared is the one presented (`pinnedNow` then says what was pinned);
 * - `confirm`: no authority vouches and nothing was compared yet: show `presented` and ask;
 * - `refused`: out of date, or not the fingerprint the person compared (`error` says which).
 */
export type CertificateJudgement =
  | { readonly kind: 'trusted'; readonly trust: ServerTrust; readonly pinnedNow?: PresentedCertificate }
  | { readonly kind: 'confirm'; readonly presented: PresentedCertificate }
  | { readonly kind: 'refused'; readonly presented: PresentedCertificate; readonly error: CrewvaultError };

/**
 * `wanted`: a fingerprint the person compared, already normalised (transport.normaliseFingerprint).
 * `now`: the system clock, as TLS itself judges a certificate's dates.
 */
export async function judgeCertificate(url: URL, known: ServerTrust | undefined, wanted: string | undefined, now: number, options: TransportOptions = {}): Promise<CertificateJudgement> {
  if (url.protocol === 'http:') return { kind: 'trusted', trust: { kind: 'loopback' } };
  if (known !== undefined && known.kind !== 'loopback' && wanted === undefined) return { kind: 'trusted', trust: known };
  const presented = await presentedCertificate(url, options);
  if (presented.vouched) return { kind: 'trusted', trust: { kind: 'authority' } };
  if (presented.validTo.getTime() < now || presented.validFrom.getTime() > now) {
    // Pinning one that is out of date would only turn into a false "changed" alarm later.
    const why = presented.validTo.getTime() < now ? 'past its end date' : 'not valid yet';
    return { kind: 'refused', presented, error: new CrewvaultError('SERVER_UNTRUSTED', `${url.host}'s certificate is ${why}: nothing was sent or pinned. Its administrator renews it first`) };
  }
  if (wanted === presented.fingerprint256) {
    return { kind: 'trusted', trust: { kind: 'pinned', pin: { fingerprint256: presented.fingerprint256, pem: presented.pem } }, pinnedNow: presented };
  }
  if (wanted !== undefined) {
    return { kind: 'refused', presented, error: new CrewvaultError('SERVER_UNTRUSTED', `${url.host}'s certificate does not have the fingerprint that was compared (--trust): nothing was sent`) };
  }
  return { kind: 'confirm', presented };
}

/** The error for a certificate not compared yet (the same for every door). */
export function notTrustedYet(url: URL): CrewvaultError {
  return new CrewvaultError('SERVER_UNTRUSTED', `${url.host}'s certificate is not trusted yet: nothing was sent`);
}

/** One answer to the second step: which kind, and the code the person typed. */
export interface SecondStepAnswer {
  readonly kind: 'code' | 'recovery' | 'emergency' | 'email';
  readonly code: string;
}

/** What an authenticator takes; anything else from the server is refused, not shown. */
const ENROL_URI = /^otpauth:\/\/totp\/[\x21-\x7e]{1,512}$/;
const ENROL_SECRET = /^[A-Z2-7]{16,128}=*$/;

export interface SignInStart {
  readonly url: URL;
  readonly trust: ServerTrust;
  readonly username: string;
  readonly password: string;
  /** An invite: register first (the person chose `password` as their new one). */
  readonly invite?: string;
  /** Register although the server's OPAQUE key is not the one this computer saw there. */
  readonly newServer?: boolean;
}

/**
 * One sign-in to one server, from the password to a kept session. `step` is what the server
 * asks for next ('done' once answered); `finish` keeps the session.
 */
export class ServerSignIn {
  step: SecondStep;
  /** How many answers were given: a few at most (a code, then this device's e-mailed one). */
  answers = 0;
  /** Registered with an invite in this sign-in. */
  readonly registered: boolean;

  private constructor(
    private readonly place: ServerPlace,
    readonly client: TeamClient,
    private readonly attempt: LoginAttempt,
    private readonly trust: ServerTrust,
    registered: boolean,
  ) {
    this.step = attempt.secondStep;
    this.registered = registered;
  }

  get origin(): string {
    return this.client.url.origin;
  }

  get user(): ServerUser {
    return this.attempt.user;
  }

  /** Registers (with an invite) or signs in with the password; the device token the server gives is kept at once. */
  static async begin(place: ServerPlace, start: SignInStart): Promise<ServerSignIn> {
    const origin = start.url.origin;
    const known = place.profiles.get(origin);
    const client = new TeamClient(start.url, start.trust, place.profiles.deviceIdFor(origin), place.transport);
    if (start.invite !== undefined) {
      // The server's OPAQUE key as this computer first saw it there (per server, whoever signed in).
      await client.register(start.invite, start.username, start.password, start.newServer === true ? undefined : known?.serverKey);
    }
    // This computer proves it is the device the server authorised with the token it was given (not its id alone).
    const deviceToken = await place.keeper.deviceToken(origin).catch(() => null);
    const attempt = await client.login(start.username, start.password, deviceToken ?? undefined);
    if (attempt.deviceToken !== undefined) await place.keeper.setDeviceToken(origin, attempt.deviceToken).catch(() => undefined);
    return new ServerSignIn(place, client, attempt, start.trust, start.invite !== undefined);
  }

  private counted(): void {
    // An authenticator's code, then this device's e-mailed one: a few steps at most, never a loop.
    if (++this.answers > 4) throw new CrewvaultError('MFA_REQUIRED', 'the server keeps asking for another step: sign in again');
  }

  /** A code for the step the server asks ('code': the app's, a recovery or emergency code; 'device': the e-mailed one). */
  async answer(answer: SecondStepAnswer): Promise<SecondStep> {
    this.counted();
    if (this.step === 'device') {
      if (answer.kind !== 'email') throw new CrewvaultError('MFA_REQUIRED', 'This computer is new to the server: enter the code e-mailed to you');
      this.step = (await this.client.call('mfaEmail', { code: answer.code })).secondStep;
    } else if (this.step === 'code') {
      const route = answer.kind === 'recovery' ? 'mfaRecovery' : answer.kind === 'emergency' ? 'mfaEmergency' : answer.kind === 'code' ? 'mfaVerify' : undefined;
      if (route === undefined) throw new CrewvaultError('MFA_REQUIRED', 'Enter the code from your authenticator app, a recovery code or an emergency code');
      this.step = (await this.client.call(route, { code: answer.code })).secondStep;
    } else if (this.step === 'done') {
      throw new CrewvaultError('INVALID_INPUT', 'Nothing is left to verify in this sign-in');
    } else {
      throw new CrewvaultError('MFA_REQUIRED', 'This server requires two-step sign-in: set up an authenticator app first');
    }
    return this.step;
  }

  /** The authenticator key to set up ('enrol'), refused unless it is what an authenticator takes. */
  async enrolStart(): Promise<{ readonly uri: string; readonly secret: string }> {
    if (this.step !== 'enrol') throw new CrewvaultError('INVALID_INPUT', 'The server does not ask to set up an authenticator in this sign-in');
    const setup = await this.client.call('mfaEnrolStart', {});
    const secret = setup.secret.replace(/ /g, '');
    // Shown as given only when it is what an authenticator takes: no escape sequence rides along.
    if (!ENROL_URI.test(setup.uri) || !ENROL_SECRET.test(secret)) {
      throw new CrewvaultError('SERVER_UNREACHABLE', 'the server offered an authenticator key this client does not take: nothing was set up');
    }
    return { uri: setup.uri, secret: secret.replace(/(.{4})/g, '$1 ').trim() };
  }

  /** The first code from the new authenticator; the recovery codes the server made, made printable. */
  async enrolConfirm(code: string): Promise<{ readonly step: SecondStep; readonly recoveryCodes: readonly string[] }> {
    if (this.step !== 'enrol') throw new CrewvaultError('INVALID_INPUT', 'The server does not ask to set up an authenticator in this sign-in');
    this.counted();
    const done = await this.client.call('mfaEnrolConfirm', { code });
    this.step = done.secondStep;
    return { step: this.step, recoveryCodes: done.recoveryCodes.map((c) => printable(c, 40)) };
  }

  /** A new device: the server e-mails a code, once; where to, masked by the server and made printable. */
  async emailSend(): Promise<string> {
    if (this.step !== 'device') throw new CrewvaultError('INVALID_INPUT', 'The server does not ask for an e-mailed code in this sign-in');
    return printable((await this.client.call('mfaEmailSend', {})).destination, 120);
  }

  /**
   * Keeps the session once the server says done: the person's key material opened (the server
   * is the one holding it), the session this computer kept there before ended, the tokens into
   * the keychain, the profile saved. `told`: says when an earlier session could not be ended.
   */
  async finish(now: number, told: (line: string) => void = () => undefined): Promise<{ readonly origin: string; readonly user: ServerUser; readonly keyFingerprint: string; readonly keys: AccountKeys }> {
    if (this.step !== 'done') throw new CrewvaultError('MFA_REQUIRED', 'The server still asks for a second step');
    const keys = await this.client.accountKeys(this.attempt.exportKey);
    // Published for owners binding this account to a vault user (#15, team join); the fingerprint
    // goes on this person's screen, to read to the owner, who compares it with what the server gave them.
    await this.client.publishPublicKey(keys);
    const keyFingerprint = publicKeyFingerprint(rawPublicKey(keys));
    const tokens = this.client.tokens;
    if (tokens === undefined) throw new CrewvaultError('INTERNAL', 'signed in without tokens');
    const { profiles, keeper } = this.place;
    const origin = this.origin;
    // One session per server on this computer: the one it replaces (this person's earlier one, or
    // whoever signed in here before) ends on the server too, not only in the keychain.
    const known = profiles.get(origin);
    if (known !== undefined) await endKeptSession(this.place, origin, known, now, told);
    try {
      await keeper.set(origin, this.attempt.user.username, tokens);
    } catch {
      await this.client.call('signOut', {}).catch(() => undefined);
      throw new CrewvaultError('LOCKED', 'the OS keychain is not available to keep the session (on Linux: a Secret Service such as gnome-keyring): signed out again');
    }
    profiles.save(origin, {
      username: this.attempt.user.username, userId: this.attempt.user.id, deviceId: this.client.deviceId, trust: this.trust, serverKey: this.attempt.serverKey, signedInAt: now,
    });
    // The opened key pair, for a desktop joining a team vault (crewvault join) to seal in its new file; nobody else keeps it.
    return { origin, user: this.attempt.user, keyFingerprint, keys };
  }

  /** Gives up before finishing: the half-done session ends on the server (best effort); nothing was kept. */
  async abandon(): Promise<void> {
    if (this.client.tokens !== undefined) await this.client.call('signOut', {}).catch(() => undefined);
  }
}

/**
 * Ends a session this computer kept for `profile` on `origin`: on the server when it answers
 * (best effort: the tokens go from the keychain whatever it says), then here. Says so through
 * `told` when the server could not be told, since the session then lives on there until it expires.
 */
async function endKeptSession(place: ServerPlace, origin: string, profile: ServerProfile, now: number, told: (line: string) => void): Promise<boolean> {
  const kept = await place.keeper.get(origin, profile.username).catch(() => undefined);
  if (kept === undefined) return true;
  let ended = false;
  try {
    const client = new TeamClient(new URL(origin), profile.trust, profile.deviceId, place.transport);
    client.tokens = kept.accessExpiresAt > now ? kept : await client.refresh(kept);
    await client.call('signOut', {});
    ended = true;
  } catch {
    told(`could not tell ${origin} to end ${printable(profile.username)}'s earlier session; it ends there when it expires.`);
  } finally {
    await place.keeper.remove(origin, profile.username);
  }
  return ended;
}

export interface KeptSession {
  readonly client: TeamClient;
  readonly origin: string;
  readonly profile: ServerProfile;
}

/** The kept session for `origin` (else the last server signed in to), refreshed when its access token is about to end (one refresh at a time). */
export async function keptSession(place: ServerPlace, origin: string | undefined, now: () => number, loginHint = 'crewvault login'): Promise<KeptSession> {
  const { profiles, keeper } = place;
  const resolved = profiles.resolve(origin);
  const { profile } = resolved;
  const client = new TeamClient(new URL(resolved.origin), profile.trust, profile.deviceId, place.transport);
  const ended = new CrewvaultError('UNAUTHORIZED', `your session on ${resolved.origin} has ended: ${loginHint} ${resolved.origin}`);
  const tokens = await withServerLock(profiles.dir, resolved.origin, async (): Promise<SessionTokens> => {
    const kept = await keeper.get(resolved.origin, profile.username);
    if (kept === undefined) throw ended;
    if (kept.accessExpiresAt > now() + SKEW_MS) return kept;
    if (kept.refreshExpiresAt <= now()) throw ended;
    try {
      const next = await client.refresh(kept);
      await keeper.set(resolved.origin, profile.username, next);
      return next;
    } catch (error) {
      if (isCrewvaultError(error) && error.code === 'UNAUTHORIZED') {
        await keeper.remove(resolved.origin, profile.username);
        profiles.signedOut(resolved.origin);
        throw ended;
      }
      throw error;
    }
  });
  client.tokens = tokens;
  if (profile.serverKey !== '') client.serverKey = profile.serverKey;
  return { client, origin: resolved.origin, profile };
}

/**
 * Signs out of `origin` (else the last server): on the server, then on this computer whatever
 * it said. `ended`: how many sessions the server ended, or 'already' when it had ended the
 * session itself. Any other failure is rethrown, saying the session left this computer.
 */
export async function signOutOfServer(place: ServerPlace, origin: string | undefined, now: () => number, everywhere = false): Promise<{ readonly origin: string; readonly ended: number | 'already' }> {
  const { origin: chosen, profile } = place.profiles.resolve(origin);
  const leave = async (): Promise<void> => {
    await place.keeper.remove(chosen, profile.username);
    place.profiles.signedOut(chosen);
  };
  let ended: number;
  try {
    const { client } = await keptSession(place, chosen, now);
    ({ endedSessions: ended } = await client.call(everywhere ? 'signOutEverywhere' : 'signOut', {}));
  } catch (error) {
    // The session leaves this computer whatever the server said; the person hears what it did not.
    await leave();
    if (isCrewvaultError(error) && error.code === 'UNAUTHORIZED') return { origin: chosen, ended: 'already' };
    if (isCrewvaultError(error)) throw new CrewvaultError(error.code, `${error.message} — signed out on this computer; on the server the session ends when it expires`);
    throw error;
  }
  await leave();
  return { origin: chosen, ended };
}
