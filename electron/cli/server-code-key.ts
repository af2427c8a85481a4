/**
 * `crewvault server code-key show | rotate | delete-old [--force]`: the server's code key (the
 * X25519 key desktops seal the OTP keys of "server computes codes" groups to), managed on the
 * server's machine from its data folder, as its administrator (whoever may read the key file).
 * `rotate` makes a new key that desktops seal to from their next sync on, and keeps the old one
 * to open what was sealed to it until then; `delete-old` deletes the old keys nothing stored needs
 * (with --force, all of them, and the seals made to them: it names the groups whose codes stop
 * until a key holder's desktop seals them again). Running server processes on the same data
 * folder take the change up at their next code (server/codes/key-ring.ts).
 *
 * Must never: print a private key (fingerprints only), or open a PGlite database a running
 * server holds (PGlite is one process's: stop the server first; PostgreSQL is shared).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CrewvaultError } from '../../shared/errors';
import { unexpectedArgument, UsageError, type CliIo } from './io';

export async function runServerCodeKey(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { data: { type: 'string' }, database: { type: 'string' }, force: { type: 'boolean' } },
    allowPositionals: true,
  });
  const [action, ...rest] = positionals;
  if (rest.length > 0) throw unexpectedArgument();
  if (action !== 'show' && action !== 'rotate' && action !== 'delete-old') throw new UsageError('server code-key takes show, rotate or delete-old');
  if (values.force === true && action !== 'delete-old') throw new UsageError('--force goes with delete-old');
  const database = values.database ?? (io.env.CREWVAULT_SERVER_DATABASE || undefined);
  if (database !== undefined && !/^postgres(ql)?:\/\//.test(database)) throw new UsageError('--database takes a postgres:// URL');
  const { defaultServerDataDir } = await import('../../server/main');
  const dataDir = values.data ?? defaultServerDataDir(io.env);
  const { SERVER_KEYS_FILE, loadOrCreateServerKeys } = await import('../../server/keys');
  if (!existsSync(path.join(dataDir, SERVER_KEYS_FILE))) throw new CrewvaultError('NOT_FOUND', `no Crewvault server's keys in ${dataDir}: give its --data folder`);
  const { keys } = await loadOrCreateServerKeys(dataDir);
  const { openPglite, openPostgres } = await import('../../server/store/db');
  const { migrate } = await import('../../server/store/migrate');
  const db = database === undefined ? await openPglite(path.join(dataDir, 'pglite')) : openPostgres(database);
  try {
    await migrate(db);
    const { DEFAULT_THROTTLE_LIMITS } = await import('../../server/context');
    const ctx = { db, keys, now: io.now, throttle: DEFAULT_THROTTLE_LIMITS };
    const rotation = await import('../../server/codes/rotation');
    if (action === 'rotate') {
      const out = await rotation.rotateCodeKey(ctx);
      io.out(`New code key: ${out.current} (desktops seal to it from their next sync; compare it with GET /v1/codes/key)\n`
        + `Kept, retiring, until every group is sealed again: ${out.retiring.join('; ')}\n`
        + 'Then "crewvault server code-key delete-old" deletes what nothing needs.\n');
    } else if (action === 'delete-old') {
      const out = await rotation.deleteRetiringCodeKeys(ctx, values.force === true);
      if (out.deleted.length === 0 && out.kept.length === 0) io.out('No retiring code key: nothing to delete.\n');
      if (out.deleted.length > 0) io.out(`Deleted: ${out.deleted.join('; ')}\n`);
      if (out.dropped.length > 0) {
        io.out('Forced: these seals were deleted with their key; these groups\' codes stop until a key holder\'s desktop syncs:\n'
          + rotation.describeStillSealed(out.dropped));
      }
      if (out.kept.length > 0) {
        io.out('Kept: still needed by seals not yet made again (a key holder\'s desktop of each group syncs, or --force):\n'
          + rotation.describeStillSealed(out.kept));
        return 1;
      }
    } else {
      const out = await rotation.codeKeyStanding(ctx);
      io.out(`Current code key: ${out.current}\n`);
      for (const id of out.retiring) io.out(`Retiring: ${id}\n`);
      if (out.stillSealed.length > 0) io.out(`Still sealed to a retiring key:\n${rotation.describeStillSealed(out.stillSealed)}`);
    }
    return 0;
  } finally {
    await db.close();
  }
}
