/**
 * `crewvault server`: runs a team server (server/main.ts) until SIGINT or SIGTERM, then
 * closes it (requests in flight finish, the database is closed) and exits 0. What a person
 * reads goes to stderr (where it listens, where the first owner's invite is); the request
 * log goes to stdout as JSON lines, for a log collector.
 *
 * The server's code (Fastify, pg, PGlite, OPAQUE) is loaded only when this command runs, so
 * every other command starts without it (scripts/build.mjs splits it into a chunk).
 * Must never: print a key, an invite or a token.
 */
import { parseArgs } from 'node:util';
import { untilStopped, UsageError, type CliCommand, type CliIo } from './io';
import { SERVER_ADMIN_USAGE } from './server-admin-usage';
import { CODE_KEY_USAGE } from './server-code-key-usage';

declare const CREWVAULT_VERSION: string | undefined;

export const SERVER_SUMMARY = 'run a team server (sign-in for many desktops) on PostgreSQL or PGlite';
export const SERVER_USAGE = 'crewvault server [--database postgres://…] [--data DIR] [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE]\n'
  + '  --database  a PostgreSQL (15+) URL, default $CREWVAULT_SERVER_DATABASE; without either, PGlite\n'
  + '              (embedded PostgreSQL) in DIR/pglite. Keep the password out of the URL, which\n'
  + '              others can read in the process list: PGPASSWORD or ~/.pgpass supply it\n'
  + '  --data      the server\'s folder: its keys (server-keys.json), and PGlite\'s database\n'
  + '              (default $CREWVAULT_SERVER_DATA, else ~/.local/share/crewvault-server)\n'
  + '  --listen    default 127.0.0.1:8443; any address but loopback needs --tls-cert and --tls-key\n'
  + '  --allow-remote-admin  let the server\'s settings (SMTP, SMS, status) be managed from any\n'
  + '              address, not only this machine (127.0.0.1 / ::1): a warning is printed and the\n'
  + '              server\'s audit records it. Off by default (finPOWER\'s "Allow local access only")\n'
  + '\n'
  + SERVER_ADMIN_USAGE
  + '\n'
  + CODE_KEY_USAGE;

async function run(args: string[], io: CliIo): Promise<number> {
  if (args[0] === 'admin') return (await import('./server-admin')).runServerAdmin(args.slice(1), io);
  if (args[0] === 'code-key') return (await import('./server-code-key')).runServerCodeKey(args.slice(1), io);
  const { values, positionals } = parseArgs({
    args,
    options: {
      database: { type: 'string' },
      data: { type: 'string' },
      listen: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'allow-remote-admin': { type: 'boolean' },
    },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError('this command takes options only');
  const database = values.database ?? (io.env.CREWVAULT_SERVER_DATABASE || undefined);
  if (database !== undefined && !/^postgres(ql)?:\/\//.test(database)) {
    throw new UsageError('--database takes a postgres:// URL');
  }
  const { DEFAULT_LISTEN } = await import('../../server/listen');
  const { defaultServerDataDir, startServer } = await import('../../server/main');
  const { batchedLog } = await import('../../server/log');
  const dataDir = values.data ?? defaultServerDataDir(io.env);
  // The request log written a turn of the event loop at a time; what is held is written at exit, also after an uncaught error.
  const log = batchedLog((text) => io.out(text));
  process.on('exit', log.flush);
  const server = await startServer({
    database,
    dataDir,
    listen: values.listen ?? DEFAULT_LISTEN,
    tlsCert: values['tls-cert'],
    tlsKey: values['tls-key'],
    now: io.now,
    log,
    version: typeof CREWVAULT_VERSION === 'string' ? CREWVAULT_VERSION : 'dev',
    allowRemoteAdmin: values['allow-remote-admin'] === true,
  });
  if (values['allow-remote-admin'] === true) {
    io.err('crewvault server: WARNING: --allow-remote-admin: SMTP and SMS credentials and the server\'s status can be managed from any address that reaches it, not only this machine (recorded in the server\'s audit)\n');
  }
  const where = database === undefined ? `PGlite in ${dataDir}` : 'PostgreSQL';
  io.err(`crewvault server: listening on ${server.url} (${where}; Ctrl+C to stop)\n`);
  io.err(`crewvault server: code key fingerprint ${server.codeKeyFingerprint} (server-computed codes: compare it with GET /v1/codes/key)\n`);
  if (server.ownerInviteFile !== undefined) {
    io.err(`crewvault server: no account yet: the first owner registers with the invite in ${server.ownerInviteFile}\n`);
  }
  await untilStopped();
  await server.close();
  log.flush();
  process.off('exit', log.flush);
  io.err('crewvault server: stopped\n');
  return 0;
}

export const serverCommand: CliCommand = { summary: SERVER_SUMMARY, usage: SERVER_USAGE, run };
