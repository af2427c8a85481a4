/**
 * A dishonest server's play-back, as the tests stage it: a client whose pulls' last page also carries
 * a record the server never stored (signed by its author, so only where it is handed is false), and a
 * client keeping what its pulls handed, to be played back later.
 */
import type { TeamClient } from '../../electron/team/client';
import type { ServerRouteInput, ServerRouteName, ServerRouteOutput } from '../../shared/api/server-contract';
import type { ReplicaRecord } from '../../shared/sync/records';

/** `client`, each pull's last page carrying `extra` too (what a dishonest server adds), at the sequence after the page's. */
export function lastPageAlsoCarries(client: TeamClient, extra: ReplicaRecord): TeamClient {
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

/** `client`, each record its pulls hand over that `keep` picks pushed onto `kept` (what a server stored then, to play back). */
export function pullsKeeping(client: TeamClient, keep: (record: ReplicaRecord) => boolean, kept: ReplicaRecord[]): TeamClient {
  const call = client.call.bind(client);
  client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
    const reply = await call(name, input, sent);
    if (name === 'syncPull') for (const r of (reply as ServerRouteOutput<'syncPull'>).records) if (keep(r.record)) kept.push(r.record);
    return reply;
  };
  return client;
}
