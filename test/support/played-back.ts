/**
 * A dishonest server's play-back, as the tests stage it: a client whose pulls' last page also carries
 * a record the server never stored (signed by its author, so only where it is handed is false).
 */
import type { TeamClient } from '../../electron/team/client';
import type { ServerRouteInput, ServerRouteName, ServerRouteOutput } from '../../shared/api/server-contract';
import type { GroupRecord } from '../../shared/sync/records';

/** `client`, each pull's last page carrying `extra` too (what a dishonest server adds), at the sequence after the page's. */
export function lastPageAlsoCarries(client: TeamClient, extra: GroupRecord): TeamClient {
  const call = client.call.bind(client);
  client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
    const reply = await call(name, input, sent);
    if (name !== 'syncPull') return reply;
    const page = reply as ServerRouteOutput<'syncPull'>;
    if (page.more) return reply;
    return { ...page, records: [...page.records, { seq: page.upTo + 1, record: extra }], upTo: page.upTo + 1 } as ServerRouteOutput<N>;
  };
  return client;
}
