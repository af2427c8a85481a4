/**
 * [Note: server contract] The one list of what a client (the desktop, the CLI, the tests)
 * may ask of `crewvault server` over HTTP: each route's method, path, who may call it, the zod
 * schema of its body and the zod schema of its reply's value. server/app.ts registers exactly
 * these routes (checked at compile time there); a client parses every reply with `reply`
 * before trusting it, since the server is another machine.
 *
 * Every reply is `{ ok: true, value } | { ok: false, error: { code, message } }` (reply.ts).
 * Bodies carry OPAQUE messages (base64url, a few hundred characters) and tokens: never a
 * password. Must never: hold a rule a route enforces (those live in server/), or a limit a
 * store relies on that is not stated here.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../errors';
import { entryRecordSchema, MAX_BATCH_RECORDS, replicaBatchSchema, replicaRecordSchema, VAULT_OBJECT_KINDS } from '../sync/records';
import { recordBatchSchema } from '../sync/record-batches';
import { MAX_SERVER_CODE_RECORDS, serverCodeHeldAskSchema, serverCodeRecordSchema } from '../sync/server-codes';

/** The largest body the server reads; every body here is far smaller. */
export const SERVER_BODY_LIMIT_BYTES = 16 * 1024;
/** The largest batch of records a push carries (a first push of a large vault comes in several). */
export const SYNC_BODY_LIMIT_BYTES = 16 * 1024 * 1024;
/**
 * `GET /v1/sync/stream?vault=ID` (a whole session, as for any route): Server-Sent Events, one
 * `event: seq` with `data: {"seq":N}` at once and each time records are stored for that vault,
 * and a comment line now and then to keep the connection alive; ended when the session's access
 * token does (the desktop reconnects with a fresh one). Sequence numbers only: a desktop pulls.
 */
export const SYNC_STREAM_PATH = '/v1/sync/stream';
export const syncStreamQuerySchema = z.strictObject({ vault: z.string().regex(/^[0-9a-f]{32}$/, 'not a vault id') });

/** A vault's id (meta vault_id: 32 hex digits) and a position in its sequence. */
const vaultId = z.string().regex(/^[0-9a-f]{32}$/, 'not a vault id');
const seqNumber = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** A vault's history mark (schema 26, server/store/history-marks.ts): the sequence a push transaction ended on and a random value written there. */
const historyMark = z.strictObject({ seq: seqNumber, value: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/) });

/** OPAQUE's messages and records travel as base64url without padding (@serenity-kit/opaque). */
const opaqueMessage = z.string().min(1).max(2048).regex(/^[A-Za-z0-9_-]+$/, 'not an OPAQUE message');
/** Tokens and ids this server issues: printable, no spaces, bounded. */
const token = z.string().min(16).max(200).regex(/^[A-Za-z0-9_-]+$/, 'not a token');
const userName = z.string().trim().min(1).max(64).regex(/^[^\p{C}]+$/u, 'a user name has no control characters');
/** A device names itself with a random id it keeps (the desktop: its keychain; the CLI: its config). */
const deviceId = z.string().min(16).max(64).regex(/^[A-Za-z0-9_-]+$/, 'not a device id');
const deviceName = z.string().trim().min(1).max(100).regex(/^[^\p{C}]+$/u, 'a device name has no control characters');
const millis = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/**
 * A person's key material sealed by their client under a key derived from OPAQUE's export
 * key: opaque bytes to the server, which stores and returns them (base64url).
 */
const sealedKeys = z.string().min(1).max(8192).regex(/^[A-Za-z0-9_-]+$/, 'not sealed key material');

export const SERVER_ROLES = ['owner', 'admin', 'member'] as const;
export type ServerRole = (typeof SERVER_ROLES)[number];

export const serverUserSchema = z.strictObject({ id: z.string(), username: z.string(), role: z.enum(SERVER_ROLES) });
export type ServerUser = z.infer<typeof serverUserSchema>;

const sessionTokensSchema = z.strictObject({
  accessToken: token,
  accessExpiresAt: millis,
  refreshToken: token,
  refreshExpiresAt: millis,
});
export type SessionTokens = z.infer<typeof sessionTokensSchema>;

/**
 * Who may call: anyone; a session past its password step only (`password`: the routes that
 * finish signing in, or end it); or a whole session (`session`: the second step done when
 * the person has one or the policy asks for one). Anything that releases data is `session`.
 */
export type RouteAccess = 'public' | 'password' | 'session';

/**
 * The newer record kinds (custom roles, vault settings, the MFA policy: task 15) a desktop takes:
 * a pull or snapshot hands those kinds only when named, so a desktop from before them (whose strict
 * record schema would refuse the whole page) is never handed one.
 */
const pulledObjectKinds = z.array(z.enum(VAULT_OBJECT_KINDS)).max(VAULT_OBJECT_KINDS.length).optional();
/** The server-wide MFA policy: off (no second step asked), optional, or required of everyone. */
export const MFA_POLICY_LEVELS = ['off', 'optional', 'required'] as const;
export type MfaPolicyLevel = (typeof MFA_POLICY_LEVELS)[number];
/**
 * Where a policy applies: everyone (`global`), one role, or the people marked external. The
 * strictest level that applies to a person is theirs; a role or `external` without a level of
 * its own adds nothing.
 */
export const MFA_POLICY_SCOPES = ['global', 'owner', 'admin', 'member', 'external'] as const;
export type MfaPolicyScope = (typeof MFA_POLICY_SCOPES)[number];
/** A session unused this long does its second step again, unless owners set otherwise (finPOWER). */
export const DEFAULT_IDLE_MINUTES = 30;
export const MAX_IDLE_MINUTES = 24 * 60;
const mfaPolicyView = z.strictObject({
  /** The global level. */
  policy: z.enum(MFA_POLICY_LEVELS),
  roles: z.strictObject({ owner: z.enum(MFA_POLICY_LEVELS).nullable(), admin: z.enum(MFA_POLICY_LEVELS).nullable(), member: z.enum(MFA_POLICY_LEVELS).nullable() }),
  external: z.enum(MFA_POLICY_LEVELS).nullable(),
  /** A session unused for longer than this does its second step again (0: never). */
  idleMinutes: z.number().int().nonnegative(),
});
export type MfaPolicyView = z.infer<typeof mfaPolicyView>;
/**
 * What an owner grants an admin beyond the admin role (issue #14, ClientTrack's "Remove
 * 2-Step Verification Admin Access"): `mfa_reset` resets someone else's second steps. Owners
 * hold every one by their role; members none.
 */
export const ADMIN_PERMISSIONS = ['mfa_reset'] as const;
export type AdminPermission = (typeof ADMIN_PERMISSIONS)[number];
/** One person's second steps as an owner or admin sees them (never a code, key or address). */
export const mfaUserViewSchema = z.strictObject({
  userId: z.string(),
  username: z.string(),
  role: z.enum(SERVER_ROLES),
  external: z.boolean(),
  /** The level that applies to them (the strictest of global, their role's and, if external, the external one). */
  policy: z.enum(MFA_POLICY_LEVELS),
  authenticator: z.boolean(),
  /** An e-mail address on file and a server that can send e-mail. */
  email: z.boolean(),
  /** A phone on file and an SMS provider set. */
  sms: z.boolean(),
  recoveryCodesLeft: z.number().int().nonnegative(),
  trustedDevices: z.number().int().nonnegative(),
  /** They may reset others' second steps: an owner, or an admin an owner granted `mfa_reset`. */
  mfaReset: z.boolean(),
});
export type MfaUserView = z.infer<typeof mfaUserViewSchema>;

/**
 * Where a session stands: `done` (nothing more to ask: the second step was done, or none is
 * needed), `code` (the person has an authenticator: a code is asked), `enrol` (the policy
 * requires one and the person has none: they set one up before anything is released),
 * `device` (this device was never authorised: a code is e-mailed to the person once).
 */
export const SECOND_STEPS = ['done', 'code', 'enrol', 'device'] as const;
export type SecondStep = (typeof SECOND_STEPS)[number];

/** An authenticator code as typed: digits, spaces allowed between groups. */
const otpCode = z.string().trim().min(6).max(12).regex(/^[0-9 ]+$/, 'a code is digits');
/** An emergency code as read over the phone: six letters, any case. */
const emergencyCode = z.string().trim().regex(/^[A-Za-z]{6}$/, 'an emergency code is six letters');
const userId = z.string().regex(/^[0-9a-f]{32}$/, 'not a user id');
/** An X25519 public key: base64url of its 32 raw bytes. */
const x25519PublicKey = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'not an X25519 public key');
/** A recovery code as typed: XXXXX-XXXXX, any case, spaces or hyphens anywhere. */
const recoveryCode = z.string().trim().min(10).max(24).regex(/^[A-Za-z0-9 -]+$/, 'a recovery code is letters and digits');
/** A code sent by e-mail: six letters, any case. */
const emailCode = z.string().trim().regex(/^[A-Za-z]{6}$/, 'an e-mailed code is six letters');
/** A code sent by text message: six digits. */
const smsCode = z.string().trim().regex(/^[0-9]{6}$/, 'a text-message code is six digits');
const emailAddress = z.string().trim().min(3).max(254).regex(/^[^\s@\p{C}]+@[^\s@\p{C}]+\.[^\s@\p{C}]+$/u, 'not an e-mail address');
/** E.164: a plus, the country code and the number, digits only. */
const phoneNumber = z.string().trim().regex(/^\+[1-9][0-9]{6,14}$/, 'a phone number is written in international form, e.g. +447700900123');
const hostName = z.string().trim().min(1).max(253).regex(/^[A-Za-z0-9._:-]+$/, 'not a host name');
/** A password or API key for a provider the server sends through: never returned, never logged. */
const providerSecret = z.string().min(1).max(512).regex(/^[^\p{C}]+$/u, 'a password or key has no control characters');

/** How the server reaches its SMTP server: TLS from the start, STARTTLS, or plain (loopback only). */
export const SMTP_SECURITY = ['tls', 'starttls', 'none'] as const;
/** The SMS providers the server has adapters for (server/sms/). */
export const SMS_SERVICES = ['clicksend', 'textmagic'] as const;
/** A text-message code lives at least this long (Q360). */
export const SMS_CODE_MIN_MINUTES = 5;
/** "Trust this device" lasts this long unless the SMS settings say otherwise (Q360). */
export const DEFAULT_TRUSTED_DEVICE_HOURS = 48;

const smtpView = z.strictObject({
  host: z.string(), port: z.number().int(), security: z.enum(SMTP_SECURITY), username: z.string().nullable(), from: z.string(), passwordSet: z.boolean(),
});
const smsView = z.strictObject({
  service: z.enum(SMS_SERVICES), username: z.string(), senderNumber: z.string(), codeExpiryMinutes: z.number().int(),
  trustedDeviceHours: z.number().int(), baseUrl: z.string().nullable(), apiKeySet: z.boolean(),
});
export const deviceViewSchema = z.strictObject({
  deviceId: z.string(),
  name: z.string().nullable(),
  /** When an e-mailed code authorised it; null: never (it was trusted before e-mail was set up). */
  authorisedAt: millis.nullable(),
  /** Until when it skips the second step ("trust this device"); null: not trusted. */
  trustedUntil: millis.nullable(),
  /** Its sessions now. */
  sessions: z.number().int().nonnegative(),
});
export type DeviceView = z.infer<typeof deviceViewSchema>;

/**
 * What an automation token may reach (issue #14): a script that cannot answer a second step
 * calls the routes that name one of its scopes, and no other. `sync.pull` reads a vault's
 * records, `sync.push` stores them; `codes` takes a server-computed code (POST /v1/codes), as
 * its maker would.
 */
export const TOKEN_SCOPES = ['sync.pull', 'sync.push', 'codes'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];
/** An automation token is `cvt_` and 256 random bits (base64url): recognisable wherever it leaks. */
export const AUTOMATION_TOKEN_PREFIX = 'cvt_';
/** The longest an automation token lives; every token has an expiry. */
export const MAX_TOKEN_DAYS = 365;
/** How many vaults a token may be limited to. */
export const MAX_TOKEN_VAULTS = 50;

export const automationTokenViewSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  scopes: z.array(z.enum(TOKEN_SCOPES)),
  /** null: every vault its maker reaches. */
  vaults: z.array(z.string()).nullable(),
  /** Who made it: it acts as them. */
  createdBy: z.strictObject({ id: z.string(), username: z.string() }),
  createdAt: millis,
  expiresAt: millis,
  lastUsedAt: millis.nullable(),
  /** The client's address at its last use. */
  lastUsedFrom: z.string().nullable(),
  revokedAt: millis.nullable(),
});
export type AutomationTokenView = z.infer<typeof automationTokenViewSchema>;

export interface RouteSpec<I extends z.ZodType | null, O extends z.ZodType> {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly access: RouteAccess;
  /**
   * An automation token (`Authorization: Bearer cvt_…`) with this scope may call the route too,
   * without a session or a second step; a token on a route without one is FORBIDDEN.
   */
  readonly tokenScope?: TokenScope;
  /** The body's schema; null for a GET, which takes none. */
  readonly input: I;
  readonly output: O;
  /** A larger body than SERVER_BODY_LIMIT_BYTES, for the one route that carries records. */
  readonly bodyLimit?: number;
  /**
   * A server setting (finPOWER's "Allow local access only"): answered only when the request's
   * socket comes from 127.0.0.1 or ::1 with no proxy's forwarding header and it carries the data
   * folder's key (LOCAL_ADMIN_HEADER), unless the server was
   * started with --allow-remote-admin (server/settings/local-only.ts). FORBIDDEN otherwise,
   * before the session is even looked at.
   */
  readonly local?: true;
}

function route<I extends z.ZodType | null, O extends z.ZodType>(spec: RouteSpec<I, O>): RouteSpec<I, O> {
  return spec;
}

/** The header that carries the device id a session is bound to, beside `Authorization: Bearer`. */
export const DEVICE_HEADER = 'crewvault-device';
/**
 * The key `crewvault server` keeps in its data folder (server/settings/local-only.ts), sent by
 * `crewvault server admin` on the routes marked `local` only: reading it proves the caller is on
 * the server's machine as its user, which a loopback address alone does not (a reverse proxy there
 * relays other machines' requests from 127.0.0.1, with no forwarding header unless configured).
 */
export const LOCAL_ADMIN_HEADER = 'crewvault-local-admin';

export const SERVER_ROUTES = {
  health: route({
    method: 'GET', path: '/health', access: 'public', input: null,
    output: z.strictObject({ status: z.literal('ok'), version: z.string(), schema: z.number().int() }),
  }),
  /** An invite (from an owner or admin, or the first owner's from the server's data folder) lets one person register. */
  registerStart: route({
    method: 'POST', path: '/v1/auth/register/start', access: 'public',
    input: z.strictObject({ invite: token, username: userName, registrationRequest: opaqueMessage }),
    output: z.strictObject({ registrationResponse: opaqueMessage }),
  }),
  registerFinish: route({
    method: 'POST', path: '/v1/auth/register/finish', access: 'public',
    input: z.strictObject({ invite: token, username: userName, registrationRecord: opaqueMessage, sealedKeys }),
    output: z.strictObject({ user: serverUserSchema }),
  }),
  /** The same reply for a name nobody has (OPAQUE's fake record): sign-in never tells who exists. */
  loginStart: route({
    method: 'POST', path: '/v1/auth/login/start', access: 'public',
    input: z.strictObject({ username: userName, startLoginRequest: opaqueMessage }),
    output: z.strictObject({ attemptId: token, loginResponse: opaqueMessage }),
  }),
  loginFinish: route({
    method: 'POST', path: '/v1/auth/login/finish', access: 'public',
    input: z.strictObject({ attemptId: token, finishLoginRequest: opaqueMessage, deviceId, deviceName: deviceName.optional(), deviceToken: token.optional() }),
    /**
     * `deviceToken`: present when the device's own (sent in) did not prove it: a new one, which
     * the client keeps (the desktop: in its keychain) and sends at its next sign-in. A device is
     * authorised or trusted only with the token of the session that authorised or trusted it.
     */
    output: z.strictObject({ user: serverUserSchema, tokens: sessionTokensSchema, secondStep: z.enum(SECOND_STEPS), deviceToken: token.optional() }),
  }),
  /** Rotates both tokens; a refresh token presented twice ends its session (it was copied). */
  refresh: route({
    method: 'POST', path: '/v1/auth/refresh', access: 'public',
    input: z.strictObject({ refreshToken: token, deviceId }),
    output: z.strictObject({ tokens: sessionTokensSchema }),
  }),
  session: route({
    method: 'GET', path: '/v1/auth/session', access: 'password', input: null,
    output: z.strictObject({
      user: serverUserSchema, sessionId: z.string(), deviceId: z.string(), authenticatedAt: millis, accessExpiresAt: millis, secondStep: z.enum(SECOND_STEPS),
    }),
  }),
  signOut: route({
    method: 'POST', path: '/v1/auth/sign-out', access: 'password', input: z.strictObject({}),
    output: z.strictObject({ endedSessions: z.number().int() }),
  }),
  /** A whole session only: the password alone must not end the sessions of the person who also has the authenticator. */
  signOutEverywhere: route({
    method: 'POST', path: '/v1/auth/sign-out-everywhere', access: 'session', input: z.strictObject({}),
    output: z.strictObject({ endedSessions: z.number().int() }),
  }),
  /** A new OPAQUE registration for the signed-in person; only from a fresh sign-in (PASSWORD_FRESH_MS). */
  passwordStart: route({
    method: 'POST', path: '/v1/auth/password/start', access: 'session',
    input: z.strictObject({ registrationRequest: opaqueMessage }),
    output: z.strictObject({ registrationResponse: opaqueMessage }),
  }),
  /** Replaces the record and the keys (sealed again under the new export key), and ends every other session. */
  passwordFinish: route({
    method: 'POST', path: '/v1/auth/password/finish', access: 'session',
    input: z.strictObject({ registrationRecord: opaqueMessage, sealedKeys }),
    output: z.strictObject({ endedSessions: z.number().int() }),
  }),
  /** The signed-in person's sealed key material, as their client stored it (null: an account from before schema 3). */
  accountKeys: route({
    method: 'GET', path: '/v1/account/keys', access: 'session', input: null,
    output: z.strictObject({ sealedKeys: z.string().nullable() }),
  }),
  /**
   * The signed-in person's X25519 public key (base64url of its 32 raw bytes), published by their
   * client once it opened their key material: set once, the same key again is fine, another is
   * CONFLICT (the server keeps the first; the person's fingerprint is what the owner compares).
   */
  accountPublicKeyPublish: route({
    method: 'POST', path: '/v1/account/public-key', access: 'session',
    input: z.strictObject({ publicKey: x25519PublicKey }),
    output: z.strictObject({ publicKey: x25519PublicKey }),
  }),
  /**
   * An account's published public key (null: its client has not published one yet), for an owner
   * or admin binding a vault user to it (#15, team join). The owner compares its fingerprint with
   * the one the person's own screen showed at `crewvault login --invite`: the server could answer
   * with a key of its own.
   */
  accountPublicKey: route({
    method: 'POST', path: '/v1/account/public-key/of', access: 'session',
    input: z.strictObject({ userId }),
    output: z.strictObject({ userId, username: z.string(), publicKey: x25519PublicKey.nullable() }),
  }),
  inviteCreate: route({
    method: 'POST', path: '/v1/invites', access: 'session',
    input: z.strictObject({ username: userName, role: z.enum(['admin', 'member']) }),
    output: z.strictObject({ invite: token, userId: z.string(), expiresAt: millis }),
  }),
  /** The person's MFA as the server sees it, and the policy that applies. */
  mfaStatus: route({
    method: 'GET', path: '/v1/mfa', access: 'password', input: null,
    output: z.strictObject({
      authenticator: z.boolean(), policy: z.enum(MFA_POLICY_LEVELS), secondStep: z.enum(SECOND_STEPS), recoveryCodesLeft: z.number().int().nonnegative(),
    }),
  }),
  /** A new authenticator key (160 bits), waiting for one code; from a password-only session only when the policy makes them enrol. */
  mfaEnrolStart: route({
    method: 'POST', path: '/v1/mfa/authenticator/start', access: 'password', input: z.strictObject({}),
    output: z.strictObject({ secret: z.string(), uri: z.string() }),
  }),
  /** One code from the new key turns it on and counts as this session's second step; the ten recovery codes, shown this once. */
  mfaEnrolConfirm: route({
    method: 'POST', path: '/v1/mfa/authenticator/confirm', access: 'password', input: z.strictObject({ code: otpCode }),
    output: z.strictObject({ secondStep: z.enum(SECOND_STEPS), recoveryCodes: z.array(z.string()).length(10) }),
  }),
  /** The second step with the authenticator's code. */
  mfaVerify: route({
    method: 'POST', path: '/v1/mfa/verify', access: 'password', input: z.strictObject({ code: otpCode }),
    output: z.strictObject({ secondStep: z.enum(SECOND_STEPS) }),
  }),
  /** The second step with a recovery code instead (each works once). */
  mfaRecovery: route({
    method: 'POST', path: '/v1/mfa/recovery', access: 'password', input: z.strictObject({ code: recoveryCode }),
    output: z.strictObject({ secondStep: z.enum(SECOND_STEPS), recoveryCodesLeft: z.number().int().nonnegative() }),
  }),
  /** "View recovery codes": only within 5 minutes of a second step done in this session (else MFA_REQUIRED: verify again). */
  mfaRecoveryCodes: route({
    method: 'POST', path: '/v1/mfa/recovery-codes/view', access: 'session', input: z.strictObject({}),
    output: z.strictObject({ codes: z.array(z.strictObject({ code: z.string(), used: z.boolean() })) }),
  }),
  /** Six letters for someone else's second step, good once for 2 minutes (owners for admins and members, admins holding `mfa_reset` for members; never for an owner), within 5 minutes of the issuer's own second step (password when they have none). */
  mfaEmergencyIssue: route({
    method: 'POST', path: '/v1/mfa/emergency', access: 'session', input: z.strictObject({ userId }),
    output: z.strictObject({ code: z.string(), expiresAt: millis }),
  }),
  /** The second step with an emergency code an admin issued. */
  mfaEmergency: route({
    method: 'POST', path: '/v1/mfa/emergency/use', access: 'password', input: z.strictObject({ code: emergencyCode }),
    output: z.strictObject({ secondStep: z.enum(SECOND_STEPS) }),
  }),
  /**
   * The policy (owners only), for everyone (no scope) or for one scope; `level: null` takes a role's or the
   * external users' own level away (the global one is always set). Turning it off keeps everyone's
   * authenticator; turning it on again asks every session for its second step again.
   */
  mfaPolicySet: route({
    method: 'POST', path: '/v1/mfa/policy', access: 'session',
    input: z.strictObject({ level: z.enum(MFA_POLICY_LEVELS).nullable(), scope: z.enum(MFA_POLICY_SCOPES).optional() }),
    output: mfaPolicyView,
  }),
  /** The idle time (owners only): a session unused whole for longer does its second step again (a trusted device excepted); 0 never asks. */
  mfaIdleSet: route({
    method: 'POST', path: '/v1/mfa/idle', access: 'session',
    input: z.strictObject({ minutes: z.number().int().min(0).max(MAX_IDLE_MINUTES) }),
    output: mfaPolicyView,
  }),
  /** The whole policy (owners and admins). */
  mfaPolicyGet: route({
    method: 'GET', path: '/v1/mfa/policy', access: 'session', input: null,
    output: mfaPolicyView,
  }),
  /** Turns one's own authenticator off (its recovery codes and trusted devices go too): within 5 minutes of a second step in this session, and never where the policy requires one. */
  mfaDisable: route({
    method: 'POST', path: '/v1/mfa/authenticator/remove', access: 'session', input: z.strictObject({}),
    output: z.strictObject({ removed: z.literal(true), trustedDevices: z.number().int().nonnegative() }),
  }),
  /** Ten new recovery codes, shown this once; the old ones stop working. Within 5 minutes of a second step in this session. */
  mfaRecoveryRenew: route({
    method: 'POST', path: '/v1/mfa/recovery-codes/new', access: 'session', input: z.strictObject({}),
    output: z.strictObject({ recoveryCodes: z.array(z.string()).length(10) }),
  }),
  /** Who has which second steps (owners: everyone; admins: everyone but owners). */
  adminMfaList: route({
    method: 'GET', path: '/v1/admin/mfa', access: 'session', input: null,
    output: z.strictObject({ users: z.array(mfaUserViewSchema) }),
  }),
  /**
   * Resets someone's second step: their authenticator, recovery and emergency codes and trusted
   * devices go, and their sessions end. Owners for admins and members, admins an owner granted
   * `mfa_reset` (adminGrantSet) for members; never for oneself or an owner. Within 5 minutes of the actor's own second step (their password
   * sign-in, when they have no authenticator).
   */
  adminMfaReset: route({
    method: 'POST', path: '/v1/admin/mfa/reset', access: 'session', input: z.strictObject({ userId }),
    output: z.strictObject({ authenticator: z.boolean(), trustedDevices: z.number().int().nonnegative(), endedSessions: z.number().int().nonnegative() }),
  }),
  /** Marks someone external (their policy includes the external one) or internal: owners for anyone, admins for anyone but an owner; taking the mark off (it can loosen their policy) needs `mfa_reset` and fresh proof, as a reset does. */
  adminUserExternal: route({
    method: 'POST', path: '/v1/admin/users/external', access: 'session', input: z.strictObject({ userId, external: z.boolean() }),
    output: z.strictObject({ userId: z.string(), external: z.boolean() }),
  }),
  /**
   * Which second steps this person can take, destinations masked (the phone's first digit and
   * last four, the e-mail's first two characters and domain); null where none is on file or
   * the server cannot send. `contactAdministrator`: neither e-mail nor text message is possible
   * for this person (the choice shows "contact your administrator").
   */
  mfaMethods: route({
    method: 'GET', path: '/v1/mfa/methods', access: 'password', input: null,
    output: z.strictObject({ authenticator: z.boolean(), email: z.string().nullable(), sms: z.string().nullable(), contactAdministrator: z.boolean() }),
  }),
  /** Six letters e-mailed to the person, good once for 5 minutes in this sign-in; a new one replaces it. */
  mfaEmailSend: route({
    method: 'POST', path: '/v1/mfa/email/send', access: 'password', input: z.strictObject({}),
    output: z.strictObject({ destination: z.string(), expiresAt: millis }),
  }),
  /** The second step with the e-mailed code; it also authorises this device. */
  mfaEmail: route({
    method: 'POST', path: '/v1/mfa/email/use', access: 'password', input: z.strictObject({ code: emailCode }),
    output: z.strictObject({ secondStep: z.enum(SECOND_STEPS) }),
  }),
  /** Six digits sent by text message through the SMS provider, good once for the configured minutes. */
  mfaSmsSend: route({
    method: 'POST', path: '/v1/mfa/sms/send', access: 'password', input: z.strictObject({}),
    output: z.strictObject({ destination: z.string(), expiresAt: millis }),
  }),
  mfaSms: route({
    method: 'POST', path: '/v1/mfa/sms/use', access: 'password', input: z.strictObject({ code: smsCode }),
    output: z.strictObject({ secondStep: z.enum(SECOND_STEPS) }),
  }),
  /** Where codes go: one's own (authorises this device when the e-mail is set), or someone else's by an owner or an admin holding `mfa_reset` (never an owner's by an admin), with fresh proof as for a reset. */
  contactSet: route({
    method: 'POST', path: '/v1/account/contact', access: 'session',
    input: z.strictObject({ userId: userId.optional(), email: emailAddress.nullable(), phone: phoneNumber.nullable() }),
    output: z.strictObject({ email: z.string().nullable(), phone: z.string().nullable() }),
  }),
  /** The person's authorised and trusted devices. */
  devicesList: route({
    method: 'GET', path: '/v1/devices', access: 'session', input: null,
    output: z.strictObject({ devices: z.array(deviceViewSchema) }),
  }),
  /** Removes one of one's own devices (its authorisation and trust) and ends its sessions. */
  deviceRemove: route({
    method: 'POST', path: '/v1/devices/remove', access: 'session', input: z.strictObject({ deviceId }),
    output: z.strictObject({ removed: z.boolean(), endedSessions: z.number().int() }),
  }),
  /** "Trust this device": skip the second step here for the configured hours; only just after a second step in this session. */
  deviceTrust: route({
    method: 'POST', path: '/v1/devices/trust', access: 'session', input: z.strictObject({}),
    output: z.strictObject({ trustedUntil: millis }),
  }),
  /** Someone's devices (owners: anyone's; admins: anyone's but an owner's). */
  adminDevicesList: route({
    method: 'POST', path: '/v1/admin/devices', access: 'session', input: z.strictObject({ userId }),
    output: z.strictObject({ devices: z.array(deviceViewSchema) }),
  }),
  adminDeviceRemove: route({
    method: 'POST', path: '/v1/admin/devices/remove', access: 'session', input: z.strictObject({ userId, deviceId }),
    output: z.strictObject({ removed: z.boolean(), endedSessions: z.number().int() }),
  }),
  /** The server's SMTP settings (owners, from the server's own machine); the password is never returned. */
  smtpGet: route({
    method: 'GET', path: '/v1/admin/smtp', access: 'session', local: true, input: null,
    output: z.strictObject({ smtp: smtpView.nullable() }),
  }),
  /** Sets them; a password left out keeps the one stored. */
  smtpSet: route({
    method: 'POST', path: '/v1/admin/smtp', access: 'session', local: true,
    input: z.strictObject({
      host: hostName, port: z.number().int().min(1).max(65535), security: z.enum(SMTP_SECURITY),
      username: z.string().trim().min(1).max(254).regex(/^[^\p{C}]+$/u, 'a user name has no control characters').nullable(),
      password: providerSecret.optional(), from: emailAddress,
    }),
    output: z.strictObject({ smtp: smtpView }),
  }),
  /** Sends a test e-mail to `to` with the stored settings. */
  smtpTest: route({
    method: 'POST', path: '/v1/admin/smtp/test', access: 'session', local: true, input: z.strictObject({ to: emailAddress }),
    output: z.strictObject({ sent: z.literal(true) }),
  }),
  smsGet: route({
    method: 'GET', path: '/v1/admin/sms', access: 'session', local: true, input: null,
    output: z.strictObject({ sms: smsView.nullable() }),
  }),
  /** Q360's SMS fields; the API key left out keeps the one stored; `baseUrl` replaces the provider's (https, or http to loopback). */
  smsSet: route({
    method: 'POST', path: '/v1/admin/sms', access: 'session', local: true,
    input: z.strictObject({
      service: z.enum(SMS_SERVICES),
      username: z.string().trim().min(1).max(254).regex(/^[^\p{C}]+$/u, 'a user name has no control characters'),
      apiKey: providerSecret.optional(),
      senderNumber: z.string().trim().min(1).max(20).regex(/^\+?[A-Za-z0-9]+$/, 'a sender is a number or up to 11 letters and digits'),
      codeExpiryMinutes: z.number().int().min(SMS_CODE_MIN_MINUTES, `a code lives at least ${SMS_CODE_MIN_MINUTES} minutes`).max(60),
      trustedDeviceHours: z.number().int().min(1).max(24 * 365).default(DEFAULT_TRUSTED_DEVICE_HOURS),
      baseUrl: z.string().trim().max(200).nullable().optional(),
    }),
    output: z.strictObject({ sms: smsView }),
  }),
  /** "Test service": sends a test message to `phone` with the stored settings. */
  smsTest: route({
    method: 'POST', path: '/v1/admin/sms/test', access: 'session', local: true, input: z.strictObject({ phone: phoneNumber }),
    output: z.strictObject({ sent: z.literal(true) }),
  }),
  /**
   * How the server runs (owners, from the server's own machine; `crewvault server admin
   * status`): its database, where it listens, whether it speaks TLS and whether server settings
   * answer this machine only. Never a URL with a password, a key or a path to one.
   */
  serverStatus: route({
    method: 'GET', path: '/v1/admin/server', access: 'session', local: true, input: null,
    output: z.strictObject({
      database: z.enum(['postgresql', 'pglite']), listen: z.string(), tls: z.boolean(), localAdminOnly: z.boolean(), schema: z.number().int(), version: z.string(),
    }),
  }),
  /**
   * Grants an admin a permission beyond their role, or takes it back (owners only, within 5
   * minutes of their own second step, or their password sign-in when they have none). Only an
   * admin takes a grant: owners hold every permission, members none.
   */
  adminGrantSet: route({
    method: 'POST', path: '/v1/admin/grants', access: 'session', input: z.strictObject({ userId, permission: z.enum(ADMIN_PERMISSIONS), granted: z.boolean() }),
    output: z.strictObject({ userId: z.string(), permission: z.enum(ADMIN_PERMISSIONS), granted: z.boolean(), changed: z.boolean() }),
  }),
  /**
   * A desktop's changes (docs/SYNC.md): all taken, in one transaction, each given the vault's
   * next sequence number — or none, when a record's base is not the revision the server holds
   * (`conflicts`: pull, take those in, push again). A vault the server does not hold yet is
   * started by its first push, by an owner.
   */
  syncPush: route({
    method: 'POST', path: '/v1/sync/push', access: 'session', tokenScope: 'sync.push', bodyLimit: SYNC_BODY_LIMIT_BYTES,
    /**
     * Schema 26: `marks` asks for the history mark at the reply's `seq` (`mark`); sent only to a server that says so.
     * Schema 29 (review R1): `pulled`, the sequence this desktop's pulls reached: a push moving a group to a new key
     * version is refused (its conflicts naming them) while an entry stored after it is live in the group under an older one.
     */
    input: z.strictObject({ batch: replicaBatchSchema, marks: z.literal(true).optional(), pulled: seqNumber.optional() }),
    output: z.strictObject({ accepted: z.number().int().nonnegative(), seq: seqNumber, conflicts: z.array(z.strictObject({ id: z.string(), revision: z.number().int().nonnegative() })), mark: historyMark.optional() }),
  }),
  /** What the vault holds after sequence `since`: each object's newest record, in sequence order, `limit` at most. */
  syncPull: route({
    method: 'POST', path: '/v1/sync/pull', access: 'session', tokenScope: 'sync.pull',
    input: z.strictObject({
      vault: vaultId, since: seqNumber, limit: z.number().int().min(1).max(MAX_BATCH_RECORDS).optional(), kinds: pulledObjectKinds,
      /** Schema 25: also tell the ids of entries that left this person's reach in the page's range (`left`); sent only to a server that says so. */
      left: z.literal(true).optional(),
      /**
       * Schema 27 (review 14 hole 1): instead, hand the signed record that took each such entry out
       * (`leftRecords`), for the desktop to check before it drops anything; sent only to a server that says so.
       */
      leftRecords: z.literal(true).optional(),
      /**
       * Schema 31 (docs/SYNC.md "A move a desktop did not see"): also hand, with each entry's record,
       * the signed records that moved it, as kept (`moves`); sent only to a server that says so.
       */
      moves: z.literal(true).optional(),
      /**
       * Schema 26 (docs/SYNC.md "Faults"): `marks` asks for the history mark at `upTo` (`mark` in the
       * reply); `mark` is the one this desktop holds for `since`. A cursor past the head, or a mark
       * this server does not hold, is refused HISTORY_CHANGED. Sent only to a server that says so.
       */
      marks: z.literal(true).optional(),
      mark: historyMark.optional(),
    }),
    output: z.strictObject({
      /** The history mark of the push transaction `upTo` falls in (asked for by `marks`). */
      mark: historyMark.optional(),
      records: z.array(z.strictObject({ seq: seqNumber, record: replicaRecordSchema })), upTo: seqNumber, more: z.boolean(),
      /** The signed batches the page's records name (record format 2), each whole; absent when none does. */
      batches: z.array(recordBatchSchema).max(MAX_BATCH_RECORDS).optional(),
      /**
       * Entries moved, after `since` and up to `upTo`, out of a group this person held into one they
       * do not (review 13b hole 4): ids only, each one they were handed before; absent when none.
       */
      left: z.array(z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)).max(1_000_000).optional(),
      /**
       * Asked by `leftRecords`: for each such entry and each group of this person's it left, the
       * record that moved it as its author pushed it (signed, or naming a batch in `batches`; sealed
       * under the new group's keys); absent when none.
       */
      leftRecords: z.array(entryRecordSchema).max(1_000_000).optional(),
      /**
       * Asked by `moves`: the records that moved an entry the page hands (from or into a group this
       * person holds), the last few kept, stored before the entry's record handed, as their authors
       * pushed them (signed, or naming a batch in `batches`); absent when none.
       */
      moves: z.array(entryRecordSchema).max(1_000_000).optional(),
    }),
  }),
  /**
   * A new replica's first sync (docs/SYNC.md "Speed"): the vault's state as stored now, each
   * object's newest record once, in sequence order, filtered as a pull is. The first page fixes
   * the snapshot's end (`upTo`: the vault's sequence then) and every page after names it; a record
   * written meanwhile is above it, and comes in the pull from `upTo` that follows. `part`:
   * `state` (everything but audit events) or `events` (the audit events up to `upTo`, taken in
   * after the state), or `objects`: only the records of the `kinds` named (custom roles, settings,
   * the MFA policy), which a desktop from before them was never handed though its cursor passed
   * them (sync.ts, once). `after`: the sequence the last page reached (0 at first).
   */
  syncSnapshot: route({
    method: 'POST', path: '/v1/sync/snapshot', access: 'session', tokenScope: 'sync.pull',
    input: z.strictObject({
      vault: vaultId, part: z.enum(['state', 'events', 'objects']), after: seqNumber, upTo: seqNumber.optional(), limit: z.number().int().min(1).max(MAX_BATCH_RECORDS).optional(),
      /** Events part only: also count the snapshot's events (`eventCount`), for a history's "n of m"; one read, asked once a run. */
      count: z.literal(true).optional(),
      kinds: pulledObjectKinds,
    }),
    output: z.strictObject({
      records: z.array(z.strictObject({ seq: seqNumber, record: replicaRecordSchema })), after: seqNumber, upTo: seqNumber, more: z.boolean(),
      batches: z.array(recordBatchSchema).max(MAX_BATCH_RECORDS).optional(),
      /** Asked with `count`: the snapshot's events (at or below upTo), and of them those at or below `after` as asked. */
      eventCount: z.strictObject({ total: z.number().int().nonnegative(), taken: z.number().int().nonnegative() }).optional(),
    }),
  }),
  /**
   * The server's code key (docs/SYNC.md "Server-computed codes"): X25519, SPKI DER as base64url,
   * and its fingerprint (SHA-256, the first 16 bytes as groups of four hex digits) for an owner
   * to compare with the one `crewvault server` printed. Public: it is a public key.
   */
  codesKey: route({
    method: 'GET', path: '/v1/codes/key', access: 'public', input: null,
    output: z.strictObject({ publicKey: z.string().regex(/^[A-Za-z0-9_-]+$/), fingerprint: z.string() }),
  }),
  /**
   * A desktop hands the server its sealed TOTP keys of a group set to "server computes codes"
   * (a `server_code` record per entry; `sealed: null` removes it). Each is checked: the entry is
   * the server's, in that group at that key version, the caller may edit it there, and the seal
   * opens for exactly that entry. All or nothing. `groupsOff` drops every key of those groups
   * (a desktop says so after the setting was turned off, whatever it remembers having sent).
   */
  codesSeal: route({
    method: 'POST', path: '/v1/codes/keys', access: 'session',
    bodyLimit: MAX_SERVER_CODE_RECORDS * 4_500,
    input: z.strictObject({
      vault: vaultId,
      records: z.array(serverCodeRecordSchema).max(MAX_SERVER_CODE_RECORDS),
      /**
       * Groups not (or no longer) set to "server computes codes": every key the server holds of
       * them goes, for the groups the caller may edit in (others are left as they are).
       */
      groupsOff: z.array(z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'not a global id')).max(MAX_SERVER_CODE_RECORDS).optional(),
    }).refine((i) => i.records.length > 0 || (i.groupsOff?.length ?? 0) > 0, 'nothing to hand over'),
    output: z.strictObject({ stored: z.number().int().nonnegative(), removed: z.number().int().nonnegative() }),
  }),
  /**
   * Which of the keys a desktop would hand over (named by their digests: serverCodeKeyDigest) the server does not hold
   * sealed as they are now, to its current code key: those it needs (docs/SYNC.md "Server-computed codes"). Before, every
   * sync of a new process (each `crewvault sync` run) sealed and handed every key again, each one opened, written and
   * audited by the server. A key in a group the caller may not edit is told as needed (the seal would be refused as
   * ever), so the answer says nothing of a group not theirs.
   */
  codesHeld: route({
    method: 'POST', path: '/v1/codes/keys/held', access: 'session',
    bodyLimit: MAX_SERVER_CODE_RECORDS * 200,
    input: z.strictObject({ vault: vaultId, keys: z.array(serverCodeHeldAskSchema).min(1).max(MAX_SERVER_CODE_RECORDS) }),
    output: z.strictObject({ needed: z.array(z.string()) }),
  }),
  /**
   * The current code of an entry of a group set to "server computes codes", and the next, for
   * someone who may see its codes (a current member of its group whose role has otp.view):
   * `step` is the RFC 6238 time step `code` is for, `expiresAt` when `next` takes over.
   * Rate-limited per account (per entry per step, and per minute) and audited with the step.
   */
  codes: route({
    method: 'POST', path: '/v1/codes', access: 'session', tokenScope: 'codes',
    input: z.strictObject({ vault: vaultId, entry: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'not a global id') }),
    output: z.strictObject({
      code: z.string().min(1).max(10), next: z.string().min(1).max(10), period: z.number().int().positive(),
      step: z.number().int().nonnegative(), expiresAt: millis,
    }),
  }),
  /**
   * An automation token for a script (owners and admins, within 10 minutes of signing in): it
   * acts as its maker on the routes its scopes name, in the vaults named (all when none), until
   * it expires (at most MAX_TOKEN_DAYS) or is revoked. Shown this once; `warning` says that it
   * skips the second step.
   */
  tokenCreate: route({
    method: 'POST', path: '/v1/admin/tokens', access: 'session',
    input: z.strictObject({
      name: z.string().trim().min(1).max(100).regex(/^[^\p{C}]+$/u, 'a token name has no control characters'),
      scopes: z.array(z.enum(TOKEN_SCOPES)).min(1).refine((scopes) => new Set(scopes).size === scopes.length, 'a scope is named twice'),
      vaults: z.array(vaultId).min(1).max(MAX_TOKEN_VAULTS).optional(),
      expiresInDays: z.number().int().min(1).max(MAX_TOKEN_DAYS, `a token lives at most ${MAX_TOKEN_DAYS} days`),
    }),
    output: z.strictObject({ token, view: automationTokenViewSchema, warning: z.string() }),
  }),
  /** Automation tokens, revoked and expired ones too, never the token itself (owners: everyone's; admins: everyone's but owners'). */
  tokensList: route({
    method: 'GET', path: '/v1/admin/tokens', access: 'session', input: null,
    output: z.strictObject({ tokens: z.array(automationTokenViewSchema) }),
  }),
  /** Ends a token at once (its maker, owners for anyone's, admins for anyone's but an owner's). */
  tokenRevoke: route({
    method: 'POST', path: '/v1/admin/tokens/revoke', access: 'session', input: z.strictObject({ id: z.string().regex(/^[0-9a-f]{32}$/, 'not a token id') }),
    output: z.strictObject({ revoked: z.boolean() }),
  }),
} as const;

export type ServerRouteName = keyof typeof SERVER_ROUTES;
export type ServerRouteInput<N extends ServerRouteName> =
  (typeof SERVER_ROUTES)[N]['input'] extends z.ZodType ? z.infer<NonNullable<(typeof SERVER_ROUTES)[N]['input']>> : undefined;
export type ServerRouteOutput<N extends ServerRouteName> = z.infer<(typeof SERVER_ROUTES)[N]['output']>;

const errorReply = z.strictObject({ ok: z.literal(false), error: z.strictObject({ code: z.enum(ERROR_CODES), message: z.string() }) });

/**
 * Each route's successful reply schema, made once: a schema made at every call is compiled again by
 * zod at its first parse (its fast path, `new Function`), which cost a desktop ~0.1 ms a reply and
 * was most of `parseServerReply`'s time (a profile of bench:sync's writer, one push a request).
 */
const okReplies = new Map<ServerRouteName, z.ZodType<{ readonly ok: true; readonly value: unknown }>>();

function okReplyOf(name: ServerRouteName): z.ZodType<{ readonly ok: true; readonly value: unknown }> {
  let schema = okReplies.get(name);
  if (schema === undefined) {
    const output: z.ZodType = SERVER_ROUTES[name].output;
    schema = z.strictObject({ ok: z.literal(true), value: output });
    okReplies.set(name, schema);
  }
  return schema;
}

/** A reply body parsed for route `name`: the value, or the server's error. Anything else throws (the route's reply schema's error). */
export function parseServerReply<N extends ServerRouteName>(name: N, body: unknown):
  { readonly ok: true; readonly value: ServerRouteOutput<N> } | z.infer<typeof errorReply> {
  // The two shapes differ in `ok`: a body is at most one of them, so the order only saves the common case a failed parse.
  const parsed = okReplyOf(name).safeParse(body);
  // The schema is route `name`'s output schema, so its output is that route's type.
  if (parsed.success) return { ok: true, value: parsed.data.value as ServerRouteOutput<N> };
  const failed = errorReply.safeParse(body);
  if (failed.success) return failed.data;
  throw parsed.error;
}
