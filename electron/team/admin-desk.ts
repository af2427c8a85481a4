/**
 * The desktop's team-server administration (`teamAdmin.*`, shared/api/team-admin-contract.ts):
 * each call is one or two calls to the server with the session the Team server screen signed in
 * for this vault user (TeamDesk.status says whether there is one, checking whose it is), made
 * as `crewvault team mfa|devices|forget|token` makes them (electron/cli/team-*.ts). The server
 * holds every rule; this module decides nothing and passes its refusals on as they are.
 * Must never: keep a code or a new automation token past the call that carries it (no field,
 * no cache: a fresh client per call), log one, or put one in an error; pass on the server's
 * LOCKED or PASSWORD_CHANGE_REQUIRED as the vault's own (see `outward`), or a name it sent unprintable.
 */
import path from 'node:path';
import type { TeamAdminOverview } from '../../shared/api/team-admin-contract';
import type { AutomationTokenView, MfaPolicyLevel, MfaPolicyScope, ServerRouteInput, ServerRouteName, ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError, isCrewvaultError } from '../../shared/errors';
import { configPath } from '../config';
import type { VaultSession } from '../vault/service';
import type { TeamDesk } from './desk';
import { printable } from './printable';
import { serverPlace, type ServerPlace } from './profiles';

export interface AdminDeskOptions {
  /** Where sessions are kept: the same place the TeamDesk uses (by default the CLI's). */
  readonly place?: ServerPlace | undefined;
  readonly now: () => number;
}

/**
 * What leaves a server call, as TeamDesk's boundary does: LOCKED and PASSWORD_CHANGE_REQUIRED
 * would send the page to the vault's own sign-in or change-password screen with the message, so
 * said by the server (or the keychain) they are this screen's error instead: a server cannot put
 * its words on the vault's sign-in screen.
 */
async function outward<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isCrewvaultError(error) && (error.code === 'LOCKED' || error.code === 'PASSWORD_CHANGE_REQUIRED')) {
      throw new CrewvaultError('SERVER_UNREACHABLE', `The team connection failed (${error.code}): ${error.message}`);
    }
    throw error;
  }
}

/** A token as listed, its server-given names made printable (the server is another machine). */
function shownToken(token: AutomationTokenView): AutomationTokenView {
  return {
    ...token, name: printable(token.name, 100), createdBy: { ...token.createdBy, username: printable(token.createdBy.username, 64) },
    lastUsedFrom: token.lastUsedFrom === null ? null : printable(token.lastUsedFrom, 64),
  };
}

/** One server session for one call: the route's value, or the server's refusal. */
interface ServerCaller {
  readonly origin: string;
  call<N extends ServerRouteName>(name: N, input: ServerRouteInput<N>): Promise<ServerRouteOutput<N>>;
  /** The admin's own code, sent first so an act that needs fresh proof has it (the CLI's `--code -`). */
  prove(code: string | undefined): Promise<void>;
}

export class TeamAdminDesk {
  private readonly place: ServerPlace;

  constructor(private readonly desk: TeamDesk, private readonly options: AdminDeskOptions) {
    this.place = options.place ?? serverPlace(process.env, path.dirname(configPath(process.env)));
  }

  /** This vault user's server session (NOT_FOUND when the Team server screen has none for them). */
  private async server(session: VaultSession): Promise<ServerCaller> {
    const connected = (await this.desk.status(session)).connected;
    if (connected === null) throw new CrewvaultError('NOT_FOUND', 'Not signed in to a team server as this vault user: sign in on the Team server screen.');
    const { keptSession } = await import('./sign-in');
    const { client, origin } = await outward(() => keptSession(this.place, connected.server, this.options.now, 'sign in again to'));
    return {
      origin,
      call: (name, input) => outward(() => client.call(name, input)),
      prove: async (code) => {
        if (code !== undefined) await outward(() => client.call('mfaVerify', { code }));
      },
    };
  }

  async overview(session: VaultSession): Promise<TeamAdminOverview> {
    const server = await this.server(session);
    const { user } = await server.call('session', undefined);
    const { isLoopbackHost } = await import('./transport');
    return { server: server.origin, username: printable(user.username, 64), role: user.role, serverOnThisComputer: isLoopbackHost(new URL(server.origin).hostname) };
  }

  async mfaList(session: VaultSession): Promise<ServerRouteOutput<'adminMfaList'>> {
    const { users } = await (await this.server(session)).call('adminMfaList', undefined);
    return { users: users.map((user) => ({ ...user, username: printable(user.username, 64) })) };
  }

  async mfaReset(input: { userId: string; code?: string | undefined }, session: VaultSession): Promise<ServerRouteOutput<'adminMfaReset'>> {
    const server = await this.server(session);
    await server.prove(input.code);
    return server.call('adminMfaReset', { userId: input.userId });
  }

  async grant(input: { userId: string; granted: boolean; code?: string | undefined }, session: VaultSession): Promise<{ granted: boolean; changed: boolean }> {
    const server = await this.server(session);
    await server.prove(input.code);
    const { granted, changed } = await server.call('adminGrantSet', { userId: input.userId, permission: 'mfa_reset', granted: input.granted });
    return { granted, changed };
  }

  async external(input: { userId: string; external: boolean; code?: string | undefined }, session: VaultSession): Promise<{ external: boolean }> {
    const server = await this.server(session);
    await server.prove(input.code);
    const { external } = await server.call('adminUserExternal', { userId: input.userId, external: input.external });
    return { external };
  }

  async policy(session: VaultSession): Promise<ServerRouteOutput<'mfaPolicyGet'>> {
    return (await this.server(session)).call('mfaPolicyGet', undefined);
  }

  async setPolicy(input: { scope: MfaPolicyScope; level: MfaPolicyLevel | null; code?: string | undefined }, session: VaultSession): Promise<ServerRouteOutput<'mfaPolicySet'>> {
    // The global level is always set: "no level of its own" is for a role or the external users.
    if (input.scope === 'global' && input.level === null) throw new CrewvaultError('INVALID_INPUT', 'The global level is off, optional or required; only a role or the external users may have none of their own.');
    const server = await this.server(session);
    await server.prove(input.code);
    return server.call('mfaPolicySet', { level: input.level, ...(input.scope === 'global' ? {} : { scope: input.scope }) });
  }

  async setIdle(input: { minutes: number; code?: string | undefined }, session: VaultSession): Promise<ServerRouteOutput<'mfaIdleSet'>> {
    const server = await this.server(session);
    await server.prove(input.code);
    return server.call('mfaIdleSet', { minutes: input.minutes });
  }

  async devices(userId: string, session: VaultSession): Promise<ServerRouteOutput<'adminDevicesList'>> {
    const { devices } = await (await this.server(session)).call('adminDevicesList', { userId });
    return { devices: devices.map((device) => ({ ...device, name: device.name === null ? null : printable(device.name, 100) })) };
  }

  async forgetDevice(input: { userId: string; deviceId: string }, session: VaultSession): Promise<ServerRouteOutput<'adminDeviceRemove'>> {
    return (await this.server(session)).call('adminDeviceRemove', input);
  }

  async tokens(session: VaultSession): Promise<ServerRouteOutput<'tokensList'>> {
    const { tokens } = await (await this.server(session)).call('tokensList', undefined);
    return { tokens: tokens.map(shownToken) };
  }

  /** The new token goes straight into the reply (shown once by the page); nothing here keeps it. */
  async createToken(input: { name: string; scopes: ServerRouteInput<'tokenCreate'>['scopes']; vaults?: string[] | undefined; days: number }, session: VaultSession): Promise<ServerRouteOutput<'tokenCreate'>> {
    const scopes = [...new Set(input.scopes)];
    const made = await (await this.server(session)).call('tokenCreate', {
      name: input.name, scopes, expiresInDays: input.days, ...(input.vaults === undefined ? {} : { vaults: input.vaults }),
    });
    return { token: made.token, view: shownToken(made.view), warning: printable(made.warning) };
  }

  async revokeToken(id: string, session: VaultSession): Promise<ServerRouteOutput<'tokenRevoke'>> {
    return (await this.server(session)).call('tokenRevoke', { id });
  }
}
