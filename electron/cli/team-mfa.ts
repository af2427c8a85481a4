/**
 * `crewvault team mfa list|reset|grant|ungrant|policy` and `crewvault team devices|forget`:
 * MFA administration and devices on a team server (issue #14, ClientTrack and Q360). The
 * server holds every rule (who sees whom, the mfa_reset permission, fresh proof, policy levels);
 * this file only asks and prints what it answers, made printable.
 *
 * Must never: print a code, or take one as an argument where "-" can read it instead.
 */
import { parseArgs } from 'node:util';
import { MAX_IDLE_MINUTES, MFA_POLICY_LEVELS, MFA_POLICY_SCOPES, type DeviceView, type MfaPolicyView, type MfaUserView } from '../../shared/api/server-contract';
import { printable } from '../team/printable';
import { unexpectedArgument, UsageError } from './io';
import { freshCode, jsonLine, TEAM_OPTIONS, userIdOf, wholeNumber, type TeamArgs } from './team-admin';

function userLine(user: MfaUserView): string {
  const methods = [user.authenticator ? 'authenticator' : '', user.email ? 'e-mail' : '', user.sms ? 'SMS' : ''].filter((m) => m !== '');
  return `${printable(user.username, 64)} (${user.role}${user.external ? ', external' : ''})  policy ${user.policy}  `
    + `${methods.length === 0 ? 'no second step' : methods.join(', ')}  recovery codes left ${user.recoveryCodesLeft}  trusted devices ${user.trustedDevices}`
    + `${user.mfaReset ? '  may reset MFA' : ''}\n`;
}

function policyLines(policy: MfaPolicyView): string {
  const roles = (['owner', 'admin', 'member'] as const).map((role) => `${role} ${policy.roles[role] ?? '-'}`).join(', ');
  return `MFA policy: ${policy.policy} for everyone; by role: ${roles}; external users: ${policy.external ?? '-'}\n`
    + `A session idle ${policy.idleMinutes === 0 ? 'for any time keeps its second step' : `over ${policy.idleMinutes} minutes does its second step again`}.\n`;
}

function deviceLine(device: DeviceView): string {
  const authorised = device.authorisedAt === null ? 'not authorised by e-mail' : `authorised ${new Date(device.authorisedAt).toISOString()}`;
  const trusted = device.trustedUntil === null ? 'not trusted' : `trusted until ${new Date(device.trustedUntil).toISOString()}`;
  return `${printable(device.deviceId, 64)}  ${printable(device.name ?? '(no name)', 100)}  ${authorised}  ${trusted}  sessions ${device.sessions}\n`;
}

function levelOf(value: string): (typeof MFA_POLICY_LEVELS)[number] | null {
  if (value === 'none') return null;
  const level = MFA_POLICY_LEVELS.find((known) => known === value);
  if (level === undefined) throw new UsageError(`policy takes ${MFA_POLICY_LEVELS.join(', ')} or none (a role's or external users' own level taken away)`);
  return level;
}

async function mfa(action: string | undefined, args: string[], { session, json, io }: TeamArgs): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: TEAM_OPTIONS.mfa, allowPositionals: true });
  const { client } = session;
  if (action !== 'policy' && (values.scope !== undefined || values.idle !== undefined)) throw new UsageError('--scope and --idle go with mfa policy');
  if (action === 'list') {
    if (positionals.length > 0 || values.code !== undefined) throw unexpectedArgument();
    const { users } = await client.call('adminMfaList', undefined);
    if (json) io.out(jsonLine({ users }));
    else for (const user of users) io.out(userLine(user));
  } else if (action === 'reset') {
    const [name, ...extra] = positionals;
    if (name === undefined) throw new UsageError('name whose MFA to reset: crewvault team mfa reset USER');
    if (extra.length > 0) throw unexpectedArgument();
    const target = await userIdOf(session, name);
    await freshCode(session, values.code, io);
    const done = await client.call('adminMfaReset', { userId: target.id });
    io.out(json ? jsonLine({ userId: target.id, ...done })
      : `Reset ${printable(target.username, 64)}'s two-step sign-in: ${done.authenticator ? 'authenticator removed' : 'no authenticator was set'}, `
        + `${done.trustedDevices} trusted device(s) forgotten, ${done.endedSessions} session(s) ended. They set it up again at their next sign-in where the policy asks.\n`);
  } else if (action === 'grant' || action === 'ungrant') {
    const [name, ...extra] = positionals;
    if (name === undefined) throw new UsageError(`name the admin: crewvault team mfa ${action} USER`);
    if (extra.length > 0) throw unexpectedArgument();
    const target = await userIdOf(session, name);
    await freshCode(session, values.code, io);
    const done = await client.call('adminGrantSet', { userId: target.id, permission: 'mfa_reset', granted: action === 'grant' });
    io.out(json ? jsonLine(done)
      : `${printable(target.username, 64)} ${done.granted ? 'may' : 'may not'} reset others' two-step sign-in${done.changed ? '' : ' (already so)'}.\n`);
  } else if (action === 'policy') {
    if (values.code !== undefined) throw new UsageError('--code goes with reset, grant and ungrant');
    const [level, ...extra] = positionals;
    if (extra.length > 0) throw unexpectedArgument();
    const scope = values.scope === undefined ? undefined : MFA_POLICY_SCOPES.find((known) => known === values.scope);
    if (values.scope !== undefined && scope === undefined) throw new UsageError(`--scope takes ${MFA_POLICY_SCOPES.join(', ')}`);
    if (scope !== undefined && level === undefined) throw new UsageError('--scope goes with a level: crewvault team mfa policy LEVEL --scope SCOPE');
    const idle = wholeNumber(values.idle, 'idle');
    if (idle !== undefined && idle > MAX_IDLE_MINUTES) throw new UsageError(`--idle takes 0 to ${MAX_IDLE_MINUTES} minutes`);
    let policy = level === undefined && idle === undefined ? await client.call('mfaPolicyGet', undefined) : undefined;
    if (level !== undefined) policy = await client.call('mfaPolicySet', { level: levelOf(level), ...(scope === undefined ? {} : { scope }) });
    if (idle !== undefined) policy = await client.call('mfaIdleSet', { minutes: idle });
    if (policy === undefined) throw new UsageError('policy takes a level, --idle, or nothing (to show it)');
    io.out(json ? jsonLine(policy) : policyLines(policy));
  } else {
    throw new UsageError('mfa takes list, reset, grant, ungrant or policy');
  }
}

async function devices(args: string[], { session, json, io }: TeamArgs): Promise<void> {
  const { positionals } = parseArgs({ args, options: TEAM_OPTIONS.devices, allowPositionals: true });
  const [name, ...extra] = positionals;
  if (extra.length > 0) throw unexpectedArgument();
  const { client } = session;
  const target = name === undefined ? undefined : await userIdOf(session, name);
  const { devices: list } = target === undefined ? await client.call('devicesList', undefined) : await client.call('adminDevicesList', { userId: target.id });
  if (json) io.out(jsonLine({ devices: list }));
  else if (list.length === 0) io.out(`${target === undefined ? 'You have' : `${printable(target.username, 64)} has`} no authorised or trusted devices.\n`);
  else for (const device of list) io.out(deviceLine(device));
}

async function forget(args: string[], { session, json, io }: TeamArgs): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: TEAM_OPTIONS.forget, allowPositionals: true });
  const [deviceId, ...extra] = positionals;
  if (deviceId === undefined) throw new UsageError('name the device: crewvault team forget DEVICE-ID [--user USER] (see crewvault team devices)');
  if (extra.length > 0) throw unexpectedArgument();
  const { client } = session;
  const target = values.user === undefined ? undefined : await userIdOf(session, values.user);
  const done = target === undefined ? await client.call('deviceRemove', { deviceId }) : await client.call('adminDeviceRemove', { userId: target.id, deviceId });
  io.out(json ? jsonLine(done)
    : done.removed ? `Device forgotten: it is asked for its e-mailed code again, and ${done.endedSessions} session(s) on it ended.\n` : 'No such device was authorised or trusted: nothing changed.\n');
}

export async function runTeamMfa(what: 'mfa' | 'devices' | 'forget', args: string[], context: TeamArgs): Promise<void> {
  if (what === 'mfa') await mfa(args[0], args.slice(1), context);
  else if (what === 'devices') await devices(args, context);
  else await forget(args, context);
}
