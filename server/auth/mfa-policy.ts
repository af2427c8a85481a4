/**
 * The second-step policy (Q360, ClientTrack): off / optional / required, for everyone, per role
 * (owner, admin, member) and for people marked external; the strictest level that applies to a
 * person is theirs (store/mfa-policy.ts). Owners set levels; owners and admins mark people
 * external (admins never an owner), and take the mark off only as they would reset someone's
 * second steps (mfa_reset and fresh proof: admin-grants.ts). Turning a level off keeps everyone's authenticator; turning
 * one on from off asks every session for its second step again (a second step from before no
 * longer counts). Owners also set the idle time after which a session does its second step
 * again (devices.ts). Loosening a level or the idle time needs the owner's own proof from the
 * last five minutes, as a grant does; tightening does not. Each change is audited.
 *
 * Must never: take a level away from `global` (someone must always have one), or let an admin
 * loosen or tighten the policy.
 */
import { MFA_POLICY_LEVELS, type MfaPolicyLevel, type MfaPolicyScope, type ServerRouteInput, type ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { appendAudit } from '../audit';
import type { ServerContext } from '../context';
import type { Queryable } from '../store/db';
import { mfaStanding } from '../store/mfa';
import { holdMfaPolicyForChange, readMfaPolicy, setExternal, writeAskedSince, writeIdleMinutes, writeMfaPolicy } from '../store/mfa-policy';
import { holdSecondStepAuthority, requireSecondStepAuthority } from './admin-grants';
import { requireActOn } from './devices';
import { requireFreshProof } from './second-step';
import type { Authenticated } from './sessions';

function requireOwnerOrAdmin(auth: Authenticated): void {
  if (auth.user.role === 'member') throw new CrewvaultError('FORBIDDEN', 'Only owners and admins see the two-step sign-in policy');
}

export async function getPolicy(ctx: ServerContext, auth: Authenticated): Promise<ServerRouteOutput<'mfaPolicyGet'>> {
  requireOwnerOrAdmin(auth);
  return readMfaPolicy(ctx.db);
}

/** The level one scope has now (null: none of its own). */
function levelIn(view: ServerRouteOutput<'mfaPolicyGet'>, scope: MfaPolicyScope): MfaPolicyLevel | null {
  if (scope === 'global') return view.policy;
  if (scope === 'external') return view.external;
  return view.roles[scope];
}

/** How strict a scope's level is; none of its own (null) adds nothing, below off. */
function rank(level: MfaPolicyLevel | null): number {
  return level === null ? -1 : MFA_POLICY_LEVELS.indexOf(level);
}

/**
 * Loosening what protects everyone's sign-in is done from a session that proved itself in the
 * last five minutes (as a grant or a reset is): a session's token alone, copied or left open,
 * does not turn two-step sign-in off. Thrown inside the transaction: nothing is written.
 */
async function requireOwnFreshProof(tx: Queryable, ctx: ServerContext, auth: Authenticated): Promise<void> {
  const own = await mfaStanding(tx, auth.user.id);
  requireFreshProof(ctx.now(), auth, !own.authenticator);
}

export async function setPolicy(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'mfaPolicySet'>, source: string): Promise<ServerRouteOutput<'mfaPolicySet'>> {
  if (auth.user.role !== 'owner') throw new CrewvaultError('FORBIDDEN', 'Only owners set the two-step sign-in policy');
  const scope = input.scope ?? 'global';
  if (scope === 'global' && input.level === null) throw new CrewvaultError('INVALID_INPUT', 'level: the global policy is always off, optional or required');
  return ctx.db.transaction(async (tx) => {
    // Held first: a codes batch judging sessions by the policy commits before this, or reads what this commits.
    await holdMfaPolicyForChange(tx);
    const before = levelIn(await readMfaPolicy(tx), scope);
    if (rank(input.level) < rank(before)) await requireOwnFreshProof(tx, ctx, auth);
    await writeMfaPolicy(tx, scope, input.level);
    // On again after off (ClientTrack): second steps done before now no longer count, so every
    // session is asked again; a scope without a level of its own followed the others, so only
    // an explicit off counts as off.
    const turnedOn = before === 'off' && input.level !== 'off' && input.level !== null;
    if (turnedOn) await writeAskedSince(tx, ctx.now());
    await appendAudit(tx, ctx, {
      kind: 'mfa.policy-set', actorId: auth.user.id, source,
      detail: { scope, level: input.level ?? 'none', askedAgain: turnedOn },
    });
    return readMfaPolicy(tx);
  });
}

/** The idle time after which a session does its second step again (owners only). */
export async function setIdleMinutes(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'mfaIdleSet'>, source: string): Promise<ServerRouteOutput<'mfaIdleSet'>> {
  if (auth.user.role !== 'owner') throw new CrewvaultError('FORBIDDEN', 'Only owners set the idle time');
  return ctx.db.transaction(async (tx) => {
    await holdMfaPolicyForChange(tx);
    const before = (await readMfaPolicy(tx)).idleMinutes;
    // 0 never asks again: the loosest of all.
    const loosens = before !== 0 && (input.minutes === 0 || input.minutes > before);
    if (loosens) await requireOwnFreshProof(tx, ctx, auth);
    await writeIdleMinutes(tx, input.minutes);
    await appendAudit(tx, ctx, { kind: 'mfa.idle-set', actorId: auth.user.id, source, detail: { minutes: input.minutes } });
    return readMfaPolicy(tx);
  });
}

const UNMARKING = 'Taking someone\'s external mark off';

/** Marks someone external or internal: their policy includes the external level while marked. */
export async function setUserExternal(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'adminUserExternal'>, source: string): Promise<ServerRouteOutput<'adminUserExternal'>> {
  if (auth.user.role === 'member') throw new CrewvaultError('FORBIDDEN', 'Only owners and admins mark people external');
  // Unmarking oneself could loosen one's own policy, as changing one's own role would.
  if (input.userId === auth.user.id) throw new CrewvaultError('FORBIDDEN', 'Nobody marks themselves external or internal');
  await requireActOn(ctx, auth, input.userId);
  // The mark only ever adds a level (strictest): taking it off can leave someone's password
  // alone enough to sign in (the external level required, the rest off), as a reset would.
  if (!input.external) await requireSecondStepAuthority(ctx, auth, UNMARKING);
  await ctx.db.transaction(async (tx) => {
    if (!input.external) await holdSecondStepAuthority(tx, auth, UNMARKING);
    await holdMfaPolicyForChange(tx);
    await setExternal(tx, input.userId, input.external);
    await appendAudit(tx, ctx, { kind: 'user.external-set', actorId: auth.user.id, subjectId: input.userId, source, detail: { external: input.external } });
  });
  return { userId: input.userId, external: input.external };
}
