/**
 * The session's ReplicaService, its module loaded on the first call made to it (#13 perf). The
 * replica code reaches the sync record schemas (shared/sync/records.ts, zod), which every process
 * that opens a vault would otherwise load and build while `crewvault otp`, `show` or `list` never
 * syncs: ~1.1 MiB of the CLI's start. Every call answers exactly as ReplicaService's own (each of
 * its public members is an async method, checked below), after the import on the first one.
 * Must never hold state of its own or answer anything but through the one ReplicaService.
 */
import type { ReplicaCore, ReplicaService } from './replica-service';

// A forwarder answers with a promise: a member that is not an async method could not be forwarded (tsc).
type NotAsync = { [K in keyof ReplicaService]: ReplicaService[K] extends (...args: never[]) => Promise<unknown> ? never : K }[keyof ReplicaService];
const everyMemberAsync: [NotAsync] extends [never] ? true : { notAsync: NotAsync } = true;
void everyMemberAsync;

/** Names never forwarded: a promise's (so the object is not a thenable) and a serialiser's. */
const NOT_FORWARDED = new Set(['then', 'catch', 'finally', 'toJSON', 'constructor']);

export function lazyReplica(core: ReplicaCore): ReplicaService {
  let loaded: Promise<ReplicaService> | undefined;
  const load = (): Promise<ReplicaService> => (loaded ??= import('./replica-service').then((m) => new m.ReplicaService(core)));
  // Any method name is forwarded, so a method added to ReplicaService needs nothing here; one it
  // does not have fails on the call, naming it.
  return new Proxy(Object.freeze({}), {
    get: (_target, name) => {
      if (typeof name !== 'string' || NOT_FORWARDED.has(name)) return undefined;
      return async (...args: unknown[]): Promise<unknown> => {
        const replica = await load();
        const method: unknown = Reflect.get(replica, name);
        if (typeof method !== 'function') throw new Error(`lazyReplica: ReplicaService has no method ${name}`);
        const answer: unknown = await Reflect.apply(method, replica, args);
        return answer;
      };
    },
  }) as unknown as ReplicaService;
}
