/**
 * [Note: server contract] One handler per route of shared/api/server-contract.ts, checked
 * at compile time (`satisfies`): a route added there without a handler here does not build.
 * Handlers only adapt: the rules are in server/auth/.
 */
import type { ServerRouteInput, ServerRouteName, ServerRouteOutput } from '../../shared/api/server-contract';
import { requireAuth, type CallContext } from '../app';
import { createInvite, registerFinish, registerStart } from '../auth/accounts';
import { issueEmergencyCode, useEmergencyCode } from '../auth/emergency';
import { loginFinish, loginStart } from '../auth/login';
import { enrolConfirm, enrolStart, mfaStatus, setPolicy, verifyCode } from '../auth/mfa';
import { useRecoveryCode, viewRecoveryCodes } from '../auth/recovery';
import { accountKeys, passwordFinish, passwordStart, refresh, signOut, signOutEverywhere } from '../auth/sessions';
import { schemaVersion } from '../store/migrate';

type Handlers = { readonly [N in ServerRouteName]: (input: ServerRouteInput<N>, call: CallContext) => Promise<ServerRouteOutput<N>> };

export const ROUTE_HANDLERS = {
  health: async (_input, call) => ({ status: 'ok' as const, version: call.version, schema: await schemaVersion(call.ctx.db) }),
  registerStart: (input, call) => registerStart(call.ctx, input),
  registerFinish: (input, call) => registerFinish(call.ctx, input),
  loginStart: (input, call) => loginStart(call.ctx, input, call.source),
  loginFinish: (input, call) => loginFinish(call.ctx, input, call.source),
  refresh: (input, call) => refresh(call.ctx, input),
  session: (_input, call) => {
    const { session, user, secondStep } = requireAuth(call);
    return Promise.resolve({ user, sessionId: session.id, deviceId: session.deviceId, authenticatedAt: session.authenticatedAt, accessExpiresAt: session.accessExpiresAt, secondStep });
  },
  signOut: (_input, call) => signOut(call.ctx, requireAuth(call)),
  signOutEverywhere: (_input, call) => signOutEverywhere(call.ctx, requireAuth(call)),
  passwordStart: (input, call) => passwordStart(call.ctx, requireAuth(call), input),
  passwordFinish: (input, call) => passwordFinish(call.ctx, requireAuth(call), input),
  accountKeys: (_input, call) => accountKeys(call.ctx, requireAuth(call)),
  inviteCreate: (input, call) => createInvite(call.ctx, requireAuth(call), input),
  mfaStatus: (_input, call) => mfaStatus(call.ctx, requireAuth(call)),
  mfaEnrolStart: (_input, call) => enrolStart(call.ctx, requireAuth(call), call.source),
  mfaEnrolConfirm: (input, call) => enrolConfirm(call.ctx, requireAuth(call), input, call.source),
  mfaVerify: (input, call) => verifyCode(call.ctx, requireAuth(call), input, call.source),
  mfaRecovery: (input, call) => useRecoveryCode(call.ctx, requireAuth(call), input, call.source),
  mfaRecoveryCodes: (_input, call) => viewRecoveryCodes(call.ctx, requireAuth(call), call.source),
  mfaEmergencyIssue: (input, call) => issueEmergencyCode(call.ctx, requireAuth(call), input, call.source),
  mfaEmergency: (input, call) => useEmergencyCode(call.ctx, requireAuth(call), input, call.source),
  mfaPolicySet: (input, call) => setPolicy(call.ctx, requireAuth(call), input, call.source),
} satisfies Handlers;
