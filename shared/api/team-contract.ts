/**
 * [Note: IPC contract] The desktop's team-server calls (`team.*`), spread into CONTRACT
 * (contract.ts) and named in METHOD_NAMES (methods.ts); electron/router.ts hands them to
 * electron/team/desk.ts. Sign-in to a server, its second step, trusting its certificate, sync,
 * moving the vault onto it, signing out. Inputs are parsed here like every other call.
 * Must never: put a password, code or token in a result (a result says what happened, in
 * counts and names; the recovery codes of a new authenticator are shown once, as the vault's are).
 */
import { z } from 'zod';

/** Where a second step stands on the server: a code (app, recovery, emergency), setting up an authenticator, or this device's e-mailed code. */
export type TeamStepDue = 'code' | 'enrol' | 'device';

/** The last sync round and what it did, in counts (never what an entry holds). */
export type TeamSyncOutcome =
  | {
    readonly ok: true;
    readonly at: number;
    /** Moving the vault onto the server (everything sent) rather than a usual round. */
    readonly moved: boolean;
    readonly taken: number;
    readonly sent: number;
    readonly conflictCopies: number;
    readonly setAside: number;
    /** Access groups this person was removed from in that round (their entries dropped on this computer), by name; absent: none. */
    readonly accessRemoved?: readonly string[];
    /** What else the round told, one line each, as `crewvault sync` words them (electron/team/sync-told.ts): people crossed, the old device id, entries that left this person's reach, events not sent; absent or empty: nothing. */
    readonly told?: readonly string[];
    /** The server's history was not the one this desktop pulled from (restored from a backup, the vault replaced): taken in again, one line (docs/SYNC.md "Faults"); absent: it was. */
    readonly historyChanged?: string;
  }
  | { readonly ok: false; readonly at: number; readonly code: string; readonly message: string };

export interface TeamStatus {
  /** The server this computer is signed in to (the CLI's too: one session per server). */
  readonly connected: {
    readonly server: string;
    readonly user: string;
    readonly deviceId: string;
    readonly signedInAt: number;
  } | null;
  /** A sign-in waiting for its second step. `destination`: where the e-mailed code went (masked by the server). */
  readonly signIn: { readonly server: string; readonly user: string; readonly step: TeamStepDue; readonly destination?: string } | null;
  /** A certificate no authority vouches for, shown for the person to compare before it is pinned. Nothing was sent. */
  readonly certificate: { readonly server: string; readonly fingerprint: string; readonly subject: string; readonly validTo: number } | null;
  readonly lastSync: TeamSyncOutcome | null;
  /** A round running now: records sent so far of those to send, and records taken in. */
  readonly progress: { readonly moving: boolean; readonly sent: number; readonly total: number; readonly taken: number } | null;
  /** Live sync is on: the server's stream starts a round as soon as others change something. */
  readonly live: boolean;
  /** A new desktop's audit history still arriving (taken in the background, docs/SYNC.md "Speed" step 8); null when it is all here. */
  readonly history: TeamHistoryStatus | null;
}

/**
 * The audit history a first sync left owed, as the background taking stands: events in of the
 * snapshot's (null until the server has counted them this run), and the last failure, kept in
 * one line while it keeps failing (when it first did, how many tries), with the next try's time.
 */
export interface TeamHistoryStatus {
  readonly taken: number | null;
  readonly total: number | null;
  readonly running: boolean;
  readonly error: { readonly code: string; readonly message: string; readonly since: number; readonly tries: number } | null;
  readonly retryAt: number | null;
}

const text = (max: number) => z.string().max(max);
const code = text(64);

type Access = 'session';
interface TeamMethodSpec<I extends z.ZodType, R> {
  readonly input: I;
  readonly access: Access;
  readonly activity: boolean;
  readonly result?: R;
}

function method<R>() {
  return <I extends z.ZodType>(input: I, activity = true): TeamMethodSpec<I, R> => ({ input, access: 'session', activity });
}

const empty = z.strictObject({});

export const TEAM_CONTRACT = {
  /** Polled by the screen (progress, live rounds): not activity that keeps an idle vault open. */
  'team.status': method<TeamStatus>()(empty, false),
  /**
   * Registers (with `invite`) or signs in. An https server no authority vouches for answers with
   * `certificate` and sends nothing, until called again with `trustFingerprint` the person compared.
   */
  'team.connect': method<TeamStatus>()(z.strictObject({
    url: text(2048),
    username: text(64).min(1),
    password: text(1024).min(1),
    invite: text(512).min(1).optional(),
    trustFingerprint: text(200).optional(),
  })),
  'team.secondStep': method<TeamStatus>()(z.strictObject({ kind: z.enum(['code', 'recovery', 'emergency', 'email']), code })),
  /** The authenticator key the server offers when it requires one ('enrol'), for the QR code and as text. */
  'team.enrolStart': method<{ uri: string; secret: string }>()(empty),
  'team.enrolConfirm': method<{ recoveryCodes: string[]; status: TeamStatus }>()(z.strictObject({ code })),
  /** This new device's code by e-mail ('device'). */
  'team.emailSend': method<TeamStatus>()(empty),
  /** Gives up a sign-in or a certificate waiting to be compared. */
  'team.cancel': method<TeamStatus>()(empty),
  'team.sync': method<TeamStatus>()(empty),
  /** The vault's owner moves the whole vault onto the server (confirmed in the UI first). */
  'team.move': method<TeamStatus>()(z.strictObject({ confirm: z.literal(true) })),
  'team.live': method<TeamStatus>()(z.strictObject({ on: z.boolean() }), false),
  'team.signOut': method<TeamStatus>()(empty),
} as const;

