/**
 * `crewvault server admin status`: how this server runs — its database's kind (never its URL,
 * which may carry a password), where it listens, whether it speaks TLS, whether its settings
 * answer this machine only — for owners, on the server's own machine (the route is `local`).
 * Must never: return a URL, a path to a key, or a key.
 */
import type { ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import type { ServerFacts } from '../app';
import type { Authenticated } from '../auth/sessions';
import type { ServerContext } from '../context';
import { schemaVersion } from '../store/migrate';

export async function serverStatus(ctx: ServerContext, auth: Authenticated, facts: ServerFacts, version: string): Promise<ServerRouteOutput<'serverStatus'>> {
  if (auth.user.role !== 'owner') throw new CrewvaultError('FORBIDDEN', 'Only owners see how the server runs');
  return {
    database: facts.database, listen: facts.listen(), tls: facts.tls, localAdminOnly: facts.localAdminOnly,
    schema: await schemaVersion(ctx.db), version,
  };
}
