/**
 * A private PostgreSQL for the server tests, or the one CREWVAULT_TEST_DATABASE_URL names.
 *
 * Private: Debian's `postgresql` binaries (/usr/lib/postgresql/<version>/bin), `initdb` in a
 * fresh folder under the system's temp dir (never $HOME, never the system cluster), a free
 * port on 127.0.0.1 only, its unix socket in that folder, a random superuser password, and
 * durability off (fsync) since it is thrown away. PostgreSQL refuses to run as root, so as
 * root the folder belongs to the `postgres` OS user and every command runs through
 * `runuser -u postgres`. `stop()` ends it and removes the folder; so does process exit, in
 * case a test file dies before its afterAll.
 *
 * Each test gets a database of its own from `createDatabase()`, so tests never see each
 * other's rows. With CREWVAULT_TEST_DATABASE_URL, that role needs CREATEDB.
 * `restart()` (private cluster only) stops it (`-m fast`: every connection is cut) and starts
 * it again on the same port, for the fault tests; it never blocks the event loop meanwhile.
 * `onDatabaseAt` gives a test a connection of its own to read or change rows behind the server.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** A URL for a new, empty database on this cluster. */
  createDatabase(): Promise<string>;
  /** The folder holding the cluster's binaries (pg_dump), or undefined for an outside server. */
  readonly binDir: string | undefined;
  /**
   * Stops the cluster as its administrator would (pg_ctl stop -m fast: every connection is
   * cut), runs `whileDown`, and starts it again on the same port. Undefined for an outside server.
   */
  readonly restart?: (whileDown?: () => Promise<void>) => Promise<void>;
  stop(): Promise<void>;
}

const PG_ROOT = '/usr/lib/postgresql';

/** The newest installed server's bin folder (pg_ctl and initdb), or undefined. */
export function postgresBinDir(): string | undefined {
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT).filter((v) => /^\d+$/.test(v) && existsSync(path.join(PG_ROOT, v, 'bin', 'pg_ctl')));
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  return newest === undefined ? undefined : path.join(PG_ROOT, newest, 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function databaseUrl(base: string, name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

function creator(adminUrl: string): () => Promise<string> {
  return async () => {
    const name = `crewvault_test_${randomBytes(6).toString('hex')}`;
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name}`);
    } finally {
      await client.end();
    }
    return databaseUrl(adminUrl, name);
  };
}

export async function startTestPostgres(env: NodeJS.ProcessEnv = process.env): Promise<TestPostgres> {
  const outside = env.CREWVAULT_TEST_DATABASE_URL;
  if (outside !== undefined && outside !== '') {
    return { createDatabase: creator(outside), binDir: postgresBinDir(), stop: () => Promise.resolve() };
  }
  const binDir = postgresBinDir();
  if (binDir === undefined) {
    throw new Error(`PostgreSQL is not installed (no ${PG_ROOT}/*/bin/pg_ctl): run "source scripts/env.sh", which installs Debian's postgresql, or set CREWVAULT_TEST_DATABASE_URL`);
  }
  const asRoot = userInfo().uid === 0;
  const run = (command: string, args: string[]): void => {
    const file = path.join(binDir, command);
    if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', file, ...args], { stdio: 'pipe', cwd: '/' });
    else execFileSync(file, args, { stdio: 'pipe' });
  };
  // The same, without blocking the event loop: the tests' servers and desktops go on meanwhile.
  const runAsync = (command: string, args: string[]): Promise<void> => new Promise((resolve, reject) => {
    const file = path.join(binDir, command);
    const [program, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] as const : [file, args] as const;
    execFile(program, argv, { cwd: '/' }, (error) => (error ? reject(new Error(`pg_ctl ${args[0] ?? ''} failed: ${error.message}`)) : resolve()));
  });

  const root = mkdtempSync(path.join(tmpdir(), 'crewvault-pg-'));
  const dataDir = path.join(root, 'data');
  const passwordFile = path.join(root, 'password');
  const password = randomBytes(18).toString('base64url');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (asRoot) {
    const postgresUser = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
    const postgresGroup = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
    chownSync(root, Number(postgresUser), Number(postgresGroup));
    chownSync(passwordFile, Number(postgresUser), Number(postgresGroup));
  }
  chmodSync(root, 0o700);

  let started = false;
  const stopNow = (): void => {
    if (started) {
      started = false;
      try {
        run('pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w']);
      } catch {
        // Already gone: nothing to stop.
      }
    }
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', stopNow);

  try {
    run('initdb', ['-D', dataDir, '-U', 'postgres', '--pwfile', passwordFile, '--auth', 'scram-sha-256', '-E', 'UTF8', '--locale', 'C.UTF-8', '--no-sync']);
    rmSync(passwordFile);
    const port = await freePort();
    const options = [
      `-p ${port}`, `-k ${root}`, "-c listen_addresses='127.0.0.1'",
      '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off', '-c max_connections=50',
    ].join(' ');
    // -l: the server's output goes to its log, never to a pipe of ours it would hold open.
    const startArgs = ['start', '-D', dataDir, '-l', path.join(root, 'server.log'), '-w', '-t', '60', '-o', options];
    run('pg_ctl', startArgs);
    started = true;
    const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
    return {
      createDatabase: creator(adminUrl),
      binDir,
      restart: async (whileDown) => {
        await runAsync('pg_ctl', ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60']);
        try {
          await whileDown?.();
        } finally {
          await runAsync('pg_ctl', startArgs);
        }
      },
      stop: () => {
        process.removeListener('exit', stopNow);
        stopNow();
        return Promise.resolve();
      },
    };
  } catch (error) {
    process.removeListener('exit', stopNow);
    stopNow();
    throw error;
  }
}

/** Runs `work` on a connection of its own to `databaseUrl` (a test reading or changing rows behind the server), ended after. */
export async function onDatabaseAt<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
