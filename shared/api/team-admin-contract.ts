/**
 * [Note: IPC contract] The desktop's team-server administration calls (`teamAdmin.*`), spread
 * into CONTRACT (contract.ts) and named in METHOD_NAMES (methods.ts); electron/router.ts hands
 * them to electron/team/admin-desk.ts, which makes each one call to the server with the session
 * the Team server screen signed in (the same routes `crewvault team …` uses). The server decides
 * every permission (who sees whom, mfa_reset, fresh proof, owners-only policy); nothing here
 * does, so a refusal reaches the page as the server said it.
 * Must never: put a code in a result, or a new automation token anywhere but the one
 * `createToken` reply that shows it once.
 */
import { z } from 'zod';
import {
  MAX_IDLE_MINUTES, MAX_TOKEN_DAYS, MAX_TOKEN_VAULTS, MFA_POLICY_LEVELS, MFA_POLICY_SCOPES, TOKEN_SCOPES,
  type AutomationTokenView, type DeviceView, type MfaPolicyView, type MfaUserView, type ServerRole,
} from './server-contract';

/** Who the person is on the server, as its own session route says, and where its settings are managed. */
export interface TeamAdminOverview {
  readonly server: string;
  readonly username: string;
  readonly role: ServerRole;
  /**
   * The server's address is this computer (loopback): its e-mail and SMS settings can be managed
   * here with `crewvault server admin`, which reads the server's data folder's key. Otherwise
   * only on the server's own machine.
   */
  readonly serverOnThisComputer: boolean;
}

const hexId = (what: string) => z.string().regex(/^[0-9a-f]{32}$/, `not a ${what} id`);
const userId = hexId('user');
/** A code proving the admin is them now (the server's fresh-proof rule): digits, as the authenticator shows them. */
const freshCode = z.string().trim().min(6).max(12).regex(/^[0-9 ]+$/, 'a code is digits').optional();

type Access = 'session';
interface TeamAdminMethodSpec<I extends z.ZodType, R> {
  readonly input: I;
  readonly access: Access;
  readonly activity: boolean;
  readonly result?: R;
}

function method<R>() {
  return <I extends z.ZodType>(input: I): TeamAdminMethodSpec<I, R> => ({ input, access: 'session', activity: true });
}

const empty = z.strictObject({});

export const TEAM_ADMIN_CONTRACT = {
  /** The person's server role, asked of the server: the screen shows the parts it allows. */
  'teamAdmin.overview': method<TeamAdminOverview>()(empty),
  'teamAdmin.mfaList': method<{ users: MfaUserView[] }>()(empty),
  /** `code`: the admin's own authenticator code, sent first when the server asked for fresh proof. */
  'teamAdmin.mfaReset': method<{ authenticator: boolean; trustedDevices: number; endedSessions: number }>()(z.strictObject({ userId, code: freshCode })),
  'teamAdmin.grant': method<{ granted: boolean; changed: boolean }>()(z.strictObject({ userId, granted: z.boolean(), code: freshCode })),
  'teamAdmin.external': method<{ external: boolean }>()(z.strictObject({ userId, external: z.boolean(), code: freshCode })),
  'teamAdmin.policy': method<MfaPolicyView>()(empty),
  /** Loosening the policy or the idle time needs fresh proof too (`code`, as for a reset). */
  'teamAdmin.setPolicy': method<MfaPolicyView>()(z.strictObject({ scope: z.enum(MFA_POLICY_SCOPES), level: z.enum(MFA_POLICY_LEVELS).nullable(), code: freshCode })),
  'teamAdmin.setIdle': method<MfaPolicyView>()(z.strictObject({ minutes: z.number().int().min(0).max(MAX_IDLE_MINUTES), code: freshCode })),
  'teamAdmin.devices': method<{ devices: DeviceView[] }>()(z.strictObject({ userId })),
  'teamAdmin.forgetDevice': method<{ removed: boolean; endedSessions: number }>()(z.strictObject({ userId, deviceId: z.string().min(16).max(64).regex(/^[A-Za-z0-9_-]+$/, 'not a device id') })),
  'teamAdmin.tokens': method<{ tokens: AutomationTokenView[] }>()(empty),
  /** The token is in this reply only (shown once); the server keeps its hash. */
  'teamAdmin.createToken': method<{ token: string; view: AutomationTokenView; warning: string }>()(z.strictObject({
    name: z.string().trim().min(1).max(100).regex(/^[^\p{C}]+$/u, 'a token name has no control characters'),
    scopes: z.array(z.enum(TOKEN_SCOPES)).min(1).max(TOKEN_SCOPES.length),
    vaults: z.array(hexId('vault')).min(1).max(MAX_TOKEN_VAULTS).optional(),
    days: z.number().int().min(1).max(MAX_TOKEN_DAYS, `a token lives at most ${MAX_TOKEN_DAYS} days`),
  })),
  'teamAdmin.revokeToken': method<{ revoked: boolean }>()(z.strictObject({ id: hexId('token') })),
} as const;
