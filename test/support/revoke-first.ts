/**
 * What the tests of a revoke going ahead of its rotation share (electron/team/sync.ts partsOf): who
 * holds Ops on the server and on each desktop, a desktop's kept session as its app holds it, and
 * clients whose pushes are lost on the way after the revoke's part. Real files and a real server.
 * Must never: sleep, or reach beyond loopback.
 */
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import type { SyncOutcome } from '../../electron/team/sync';
import type { TeamClient } from '../../electron/team/client';
import { uidText } from '../../electron/vault/ids';
import { CrewvaultError } from '../../shared/errors';
import type { ServerRouteInput, ServerRouteName, ServerRouteOutput } from '../../shared/api/server-contract';
import { getGroup, getMembership } from '../../server/store/membership';
import { BOB, CAROL, groupUidIn, type Desktop, type TeamDesktops } from './team-desktops';

/** A user's global id as the vault file at `file` holds it. */
export function userUidIn(file: string, name: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return uidText((db.prepare('SELECT uid FROM users WHERE name = ?').get(name) as { uid: Buffer }).uid);
  } finally {
    db.close();
  }
}

/** Who holds Ops on the server, by name, and its key version. */
export async function opsOnServer(team: TeamDesktops): Promise<{ readonly holders: string[]; readonly version: number | undefined }> {
  const { a } = team;
  const vault = await team.onDesktop(a, (s) => s.replica.vaultId());
  const ops = groupUidIn(a.file, team.opsId);
  return team.server.database.transaction(async (tx) => {
    const holders: string[] = [];
    for (const name of ['alice', BOB, CAROL]) if ((await getMembership(tx, vault, ops, userUidIn(a.file, name))) !== undefined) holders.push(name);
    return { holders, version: (await getGroup(tx, vault, ops))?.keyVersion };
  });
}

/** Ops's members as a desktop lists them, by name (none: the desktop does not hold Ops). */
export async function opsMembersOn(team: TeamDesktops, d: TeamDesktops['a']): Promise<string[]> {
  return team.onDesktop(d, async (s) => {
    if (!(await s.team.listGroups()).some((g) => g.id === team.opsId)) return [];
    return (await s.team.members(team.opsId)).map((m) => m.name).sort();
  });
}

/** Whether a desktop holds Ops (lists it among its groups). */
export async function holdsOps(team: TeamDesktops, d: TeamDesktops['a']): Promise<boolean> {
  return team.onDesktop(d, async (s) => (await s.team.listGroups()).some((g) => g.id === team.opsId));
}

/** A desktop's kept session with the team server, as its app holds it (what syncOnce is given). */
export async function keptClient(team: TeamDesktops, d: TeamDesktops['a'], now: () => number): Promise<TeamClient> {
  return (await keptSession(serverPlace(d.env), new URL(team.server.url).origin, now)).client;
}

/** Its sync's outcome: 'ok', or the error's code and message. */
export const outcomeOf = (run: Promise<unknown>): Promise<string> => run.then(() => 'ok', (error: unknown) => (error instanceof CrewvaultError ? `${error.code}: ${error.message}` : String(error)));

/** `client`, whose pushes after its first are lost on the way (nothing of them reaches the server). */
export function losingPushesAfterFirst(client: TeamClient): TeamClient {
  const call = client.call.bind(client);
  let pushes = 0;
  client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
    if (name === 'syncPush' && ++pushes > 1) throw new CrewvaultError('SERVER_UNREACHABLE', 'The team server could not be reached.');
    return call(name, input, sent);
  };
  return client;
}

/** `client`, whose pushes carrying a group record (a rotation's part) are lost on the way (nothing of them reaches the server). */
export function losingRotations(client: TeamClient): TeamClient {
  const call = client.call.bind(client);
  client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
    if (name === 'syncPush' && (input as ServerRouteInput<'syncPush'>).batch.records.some((r) => r.kind === 'group')) throw new CrewvaultError('SERVER_UNREACHABLE', 'The team server could not be reached.');
    return call(name, input, sent);
  };
  return client;
}

/** Carol joins Ops, and bob, made a team lead, leads it; every desktop takes it in. */
export async function bobLeadsOpsWithCarol(team: TeamDesktops): Promise<void> {
  await team.onDesktop(team.a, async (s) => {
    await s.team.changeRole(BOB, 'team_lead', await s.team.userRevision(BOB));
    await s.team.grant(team.opsId, CAROL, false, await s.team.groupRevision(team.opsId));
    await s.team.setLead(team.opsId, BOB, true, await s.team.memberRevision(team.opsId, BOB));
  });
  for (const d of [team.a, team.a2, team.b, team.c]) {
    const out = await team.sync(d);
    if (out.code !== 'ok') throw new Error(`${d.name}: sync ${out.code}`);
  }
}

/** bob, leading Ops with carol (bobLeadsOpsWithCarol), made an admin and carol codes-only; desktops a, b and c take it in. */
export async function bobAdminCarolCodesOnly(team: TeamDesktops): Promise<void> {
  await bobLeadsOpsWithCarol(team);
  await team.onDesktop(team.a, async (s) => {
    await s.team.changeRole(BOB, 'admin', await s.team.userRevision(BOB));
    await s.team.changeRole(CAROL, 'codes_only', await s.team.userRevision(CAROL));
  });
  for (const d of [team.a, team.b, team.c]) await synced(team, d);
}

/** Whether Ops is set to "server computes codes" on desktop `d`, as it lists its groups. */
export function opsCodesOn(team: TeamDesktops, d: Desktop): Promise<boolean | undefined> {
  return team.onDesktop(d, async (s) => (await s.team.listGroups()).find((g) => g.id === team.opsId)?.serverCodes);
}

/** `crewvault sync --json` on a desktop that must answer ok: its outcome. */
export async function synced(team: TeamDesktops, d: Desktop): Promise<SyncOutcome> {
  const out = await team.sync(d);
  expect(out.code, `${d.name}: sync: ${out.stderr}`).toBe('ok');
  return JSON.parse(out.stdout) as SyncOutcome;
}

/** Who holds a wrap of Ops in a desktop's vault file, and at which key version (read from the file: bob, no lead now, may not list members). */
export function opsWrapsIn(team: TeamDesktops, d: Desktop): string[] {
  const db = new Database(d.file, { readonly: true });
  try {
    const rows = db.prepare('SELECT u.name, gk.key_version AS v FROM group_keys gk JOIN users u ON u.id = gk.user_id WHERE gk.group_id = ?').all(team.opsId) as Array<{ name: string; v: number }>;
    return rows.map((r) => `${r.name}@${r.v}`).sort();
  } finally {
    db.close();
  }
}

/** The desktop's audit rows of an action (read from its vault file). */
export function auditedIn(d: Desktop, action: string): number {
  const db = new Database(d.file, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM audit_log WHERE action = ?').get(action) as { n: number }).n;
  } finally {
    db.close();
  }
}

/** The password of Acme/Switch as a desktop reveals it. */
export async function switchPasswordOn(team: TeamDesktops, d: Desktop): Promise<string> {
  return team.onDesktop(d, async (s) => s.revealPassword((await s.resolvePath('Acme/Switch')).id));
}


/** What a sync tells while bob's revoke of carol, its rotation undone (he no longer manages Ops), stands (sync.ts revokesUnmadeLine). */
export const UNDONE_CAROL = 'A revoke of yours not made: carol from Ops (you no longer manage the group, and your key change, never sent, was undone): an owner or admin must make it.';
