/**
 * The base revision a desktop door's write of a group, membership, custom role, user, the MFA
 * policy or the vault settings names (#13), read through the same router as the person signed in there, as the screens read it
 * before they write: tests that are not about conflicts give their calls the revision of now.
 * A thing the person cannot see reads as 0 (the vault asks permission before the revision, so
 * the answer such a test expects is unchanged). Never used where a test is about stale writes.
 */
import type { Router } from '../../electron/router';
import type { MethodName } from '../../shared/api/contract';
import type { GroupSummary, MemberView, RoleView, UserAdminView } from '../../shared/model';
import type { MfaPolicyView, SessionState } from '../../shared/api/contract';

type Input = Record<string, unknown>;

const GROUP_METHODS = new Set<string>(['groups.rename', 'groups.delete', 'groups.setServerCodes', 'groups.grant']);
const MEMBER_METHODS = new Set<string>(['groups.setLead', 'groups.revoke']);
const USER_METHODS = new Set<string>(['users.disable', 'users.setRole', 'users.resetPassword']);

async function listed<T>(router: Router, method: MethodName, input: Input): Promise<T[]> {
  const reply = await router.call(method, input);
  return reply.ok && Array.isArray(reply.value) ? (reply.value as T[]) : [];
}

async function valueOf<T>(router: Router, method: MethodName): Promise<T | undefined> {
  const reply = await router.call(method, {});
  return reply.ok ? (reply.value as T) : undefined;
}

/** `input` with the baseRevision its method takes, read now; other methods' input as it is. */
export async function withBase(router: Router, method: MethodName, input: unknown): Promise<unknown> {
  if (typeof input !== 'object' || input === null || 'baseRevision' in input) return input;
  const given = input as Input;
  let base: number | undefined;
  if (GROUP_METHODS.has(method)) base = (await listed<GroupSummary>(router, 'groups.list', {})).find((g) => g.id === given.id)?.revision ?? 0;
  else if (MEMBER_METHODS.has(method)) base = (await listed<MemberView>(router, 'groups.members', { id: given.id })).find((m) => m.name === given.username)?.revision ?? 0;
  else if (USER_METHODS.has(method)) base = (await listed<UserAdminView>(router, 'users.list', {})).find((u) => u.name === given.username)?.revision ?? 0;
  else if (method === 'mfa.setPolicy') base = (await valueOf<MfaPolicyView>(router, 'mfa.policy'))?.revision ?? 0;
  else if (method === 'settings.update') base = (await valueOf<SessionState>(router, 'session.state'))?.settings.revision ?? 0;
  else if (method === 'roles.define') base = (await listed<RoleView>(router, 'roles.list', {})).find((r) => !r.builtIn && r.name === given.name)?.revision ?? 0;
  return base === undefined ? input : { ...given, baseRevision: base };
}
