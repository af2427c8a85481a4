/**
 * The session's ReplicaService, its module loaded on the first call made to it (#13 perf). The
 * replica code reaches the sync record schemas (shared/sync/records.ts, zod), which every process
 * that opens a vault would otherwise load and build while `crewvault otp`, `show` or `list` never
 * syncs: ~1.1 MiB of the CLI's start. Every call answers exactly as ReplicaService's own (each of
 * its public members is an async method, checked below), after the import on the first one.
 * Must never hold state of its own or answer anything but through the one ReplicaService.
 */
import type { ReplicaCore, ReplicaService } from './replica-service';

/** Every public member of ReplicaService, each forwarded. A member added there must be named here (tsc). */
const METHODS = [
  'outgoing', 'accountRecord', 'ownSigningKey', 'groupsOwedWhole', 'signingKeysHeld', 'vaultId', 'teamServer', 'bindTeamServer', 'historyOwed',
  'signsEventsV3', 'startSigningEventsV3', 'pulledUpTo', 'overwriteRefused', 'markSent', 'pushing', 'agreeAll', 'apply', 'applyPulled', 'isEmpty', 'checkAhead',
] as const satisfies ReadonlyArray<keyof ReplicaService>;
type Unnamed = Exclude<keyof ReplicaService, (typeof METHODS)[number]>;
// A forwarder answers with a promise: a member that is not an async method could not be forwarded.
type NotAsync = { [K in keyof ReplicaService]: ReplicaService[K] extends (...args: never[]) => Promise<unknown> ? never : K }[keyof ReplicaService];
const everyMemberNamed: [Unnamed] extends [never] ? true : { unnamed: Unnamed } = true;
const everyMemberAsync: [NotAsync] extends [never] ? true : { notAsync: NotAsync } = true;
void everyMemberNamed;
void everyMemberAsync;

export function lazyReplica(core: ReplicaCore): ReplicaService {
  let loaded: Promise<ReplicaService> | undefined;
  const load = (): Promise<ReplicaService> => (loaded ??= import('./replica-service').then((m) => new m.ReplicaService(core)));
  const named = new Set<string | symbol>(METHODS);
  // Only the named methods: anything else (then, toJSON) is undefined, so the object is not a thenable.
  return new Proxy(Object.freeze({}), {
    get: (_target, name) => {
      if (!named.has(name)) return undefined;
      const method = name as (typeof METHODS)[number];
      return async (...args: unknown[]): Promise<unknown> => {
        const replica = await load();
        const answer: unknown = await Reflect.apply(replica[method].bind(replica), undefined, args);
        return answer;
      };
    },
  }) as unknown as ReplicaService;
}
