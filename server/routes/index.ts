/**
 * [Note: server contract] One handler per route of shared/api/server-contract.ts, checked
 * at compile time (`satisfies`): a route added there without a handler here does not build.
 * Handlers only adapt: the rules are in server/auth/.
 */
import type { SecondStep, ServerRouteInput, ServerRouteName, ServerRouteOutput } from '../../shared/api/server-contract';
import { requireAuth, requireCaller, type CallContext } from '../app';
import { createInvite, registerFinish, registerStart } from '../auth/accounts';
import { setGrant } from '../auth/admin-grants';
import { computeCode, computeCodeForPresented, publishedCodeKey, sealCodes, sealsNeeded } from '../codes/service';
import { createToken, listTokens, revokeToken } from '../auth/automation-tokens';
import { setContact } from '../auth/contacts';
import { ownDevices, removeOwnDevice, removeSomeonesDevice, someonesDevices, standingAfterSecondStep, trustDevice } from '../auth/devices';
import { issueEmergencyCode, useEmergencyCode } from '../auth/emergency';
import { loginFinish, loginStart } from '../auth/login';
import { disableAuthenticator, enrolConfirm, enrolStart, mfaStatus, verifyCode } from '../auth/mfa';
import { listSecondSteps, resetSecondSteps } from '../auth/mfa-admin';
import { getPolicy, setIdleMinutes, setPolicy, setUserExternal } from '../auth/mfa-policy';
import { renewRecoveryCodes, useRecoveryCode, viewRecoveryCodes } from '../auth/recovery';
import { mfaMethods, sendCode, useSentCode } from '../auth/sent-codes';
import { publishOwnPublicKey, someonesPublicKey } from '../auth/public-keys';
import { accountKeys, passwordFinish, passwordStart, refresh, signOut, signOutEverywhere } from '../auth/sessions';
import { smsGet, smsSet, smsTest, smtpGet, smtpSet, smtpTest } from '../settings/delivery';
import { serverStatus } from '../settings/status';
import { schemaVersion } from '../store/migrate';
import type { JsonText } from '../json-text';
import { pull, push } from '../sync/records';
import { snapshot } from '../sync/snapshot';

/** A second step just done: the reply says what is left (a new device's e-mailed code, or nothing). */
async function thenStanding<T extends { secondStep: SecondStep }>(call: CallContext, done: Promise<T>): Promise<T> {
  const value = await done;
  return { ...value, secondStep: await standingAfterSecondStep(call.ctx, requireAuth(call)) };
}

/** A handler's value, or the same value written as JSON already (json-text.ts: stored records handed on unparsed). */
type Handlers = { readonly [N in ServerRouteName]: (input: ServerRouteInput<N>, call: CallContext) => Promise<ServerRouteOutput<N> | JsonText<ServerRouteOutput<N>>> };

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
  accountPublicKeyPublish: (input, call) => publishOwnPublicKey(call.ctx, requireAuth(call), input),
  accountPublicKey: (input, call) => someonesPublicKey(call.ctx, requireAuth(call), input),
  inviteCreate: (input, call) => createInvite(call.ctx, requireAuth(call), input),
  mfaStatus: (_input, call) => mfaStatus(call.ctx, requireAuth(call)),
  mfaEnrolStart: (_input, call) => enrolStart(call.ctx, requireAuth(call), call.source),
  mfaEnrolConfirm: (input, call) => thenStanding(call, enrolConfirm(call.ctx, requireAuth(call), input, call.source)),
  mfaVerify: (input, call) => thenStanding(call, verifyCode(call.ctx, requireAuth(call), input, call.source)),
  mfaRecovery: (input, call) => thenStanding(call, useRecoveryCode(call.ctx, requireAuth(call), input, call.source)),
  mfaRecoveryCodes: (_input, call) => viewRecoveryCodes(call.ctx, requireAuth(call), call.source),
  mfaEmergencyIssue: (input, call) => issueEmergencyCode(call.ctx, requireAuth(call), input, call.source),
  mfaEmergency: (input, call) => thenStanding(call, useEmergencyCode(call.ctx, requireAuth(call), input, call.source)),
  mfaPolicySet: (input, call) => setPolicy(call.ctx, requireAuth(call), input, call.source),
  mfaPolicyGet: (_input, call) => getPolicy(call.ctx, requireAuth(call)),
  mfaIdleSet: (input, call) => setIdleMinutes(call.ctx, requireAuth(call), input, call.source),
  mfaDisable: (_input, call) => disableAuthenticator(call.ctx, requireAuth(call), call.source),
  mfaRecoveryRenew: (_input, call) => renewRecoveryCodes(call.ctx, requireAuth(call), call.source),
  adminMfaList: (_input, call) => listSecondSteps(call.ctx, requireAuth(call)),
  adminMfaReset: (input, call) => resetSecondSteps(call.ctx, requireAuth(call), input, call.source),
  adminUserExternal: (input, call) => setUserExternal(call.ctx, requireAuth(call), input, call.source),
  mfaMethods: (_input, call) => mfaMethods(call.ctx, requireAuth(call)),
  mfaEmailSend: (_input, call) => sendCode(call.ctx, requireAuth(call), 'email', call.source),
  mfaEmail: (input, call) => useSentCode(call.ctx, requireAuth(call), 'email', input, call.source),
  mfaSmsSend: (_input, call) => sendCode(call.ctx, requireAuth(call), 'sms', call.source),
  mfaSms: (input, call) => useSentCode(call.ctx, requireAuth(call), 'sms', input, call.source),
  contactSet: (input, call) => setContact(call.ctx, requireAuth(call), input, call.source),
  devicesList: (_input, call) => ownDevices(call.ctx, requireAuth(call)),
  deviceRemove: (input, call) => removeOwnDevice(call.ctx, requireAuth(call), input, call.source),
  deviceTrust: (_input, call) => trustDevice(call.ctx, requireAuth(call), call.source),
  adminDevicesList: (input, call) => someonesDevices(call.ctx, requireAuth(call), input),
  adminDeviceRemove: (input, call) => removeSomeonesDevice(call.ctx, requireAuth(call), input, call.source),
  smtpGet: (_input, call) => smtpGet(call.ctx, requireAuth(call)),
  smtpSet: (input, call) => smtpSet(call.ctx, requireAuth(call), input, call.source),
  smtpTest: (input, call) => smtpTest(call.ctx, requireAuth(call), input, call.source),
  smsGet: (_input, call) => smsGet(call.ctx, requireAuth(call)),
  smsSet: (input, call) => smsSet(call.ctx, requireAuth(call), input, call.source),
  smsTest: (input, call) => smsTest(call.ctx, requireAuth(call), input, call.source),
  serverStatus: (_input, call) => serverStatus(call.ctx, requireAuth(call), call.server, call.version),
  adminGrantSet: (input, call) => setGrant(call.ctx, requireAuth(call), input, call.source),
  syncPush: (input, call) => push(call.ctx, requireCaller(call), input, call.source),
  syncPull: (input, call) => pull(call.ctx, requireCaller(call), input),
  syncSnapshot: (input, call) => snapshot(call.ctx, requireCaller(call), input),
  codesKey: (_input, call) => Promise.resolve(publishedCodeKey(call.ctx)),
  codesSeal: (input, call) => sealCodes(call.ctx, requireAuth(call), input, call.source),
  codesHeld: (input, call) => sealsNeeded(call.ctx, requireAuth(call), input),
  codes: (input, call) => (call.presented === undefined
    ? computeCode(call.ctx, requireCaller(call), input, call.source)
    : computeCodeForPresented(call.ctx, call.presented, input, call.source)),
  tokenCreate: (input, call) => createToken(call.ctx, requireAuth(call), input, call.source),
  tokensList: (_input, call) => listTokens(call.ctx, requireAuth(call)),
  tokenRevoke: (input, call) => revokeToken(call.ctx, requireAuth(call), input, call.source),
} satisfies Handlers;
