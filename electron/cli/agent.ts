/**
 * The unlock agent: the process `crewvault unlock` leaves behind, holding one signed-in vault
 * session for one OS user and terminal on a private Unix socket (agent-place.ts). Commands sent
 * to it (UNLOCKED_COMMANDS) by a process of that terminal's session (agent-peer.ts, Linux) run
 * here against that session, so they need neither password nor
 * code; their output and the secrets they prompt for travel over the socket.
 * It ends, locking the session, on `crewvault lock`, after the idle time with no command (time a
 * command waits at its prompt counts: a late answer is refused), when
 * the terminal's session leader exits, when the screen locks or the machine suspends (as far as
 * D-Bus tells, screen-lock.ts), on SIGTERM/SIGINT/SIGHUP, or when the session is locked under it.
 * Must never log, print or pass on the password or a code it was given: they arrive on its
 * standard input and go no further than the sign-in.
 */
import { unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CrewvaultError, isCrewvaultError } from '../../shared/errors';
import { Vault } from '../vault/vault';
import { optionValue, UNLOCKED_COMMANDS } from './agent-commands';
import { makePrivateFolder, processStart } from './agent-place';
import { peerSessions, sessionOf } from './agent-peer';
import type { AgentMessage} from './agent-protocol';
import { ClientMessage, encodeMessage, readMessage } from './agent-protocol';
import { LineReader } from './bounded-input';
import { UsageError, type CliIo, type HeldSession } from './io';
import { watchScreenLock } from './screen-lock';
import { signIn, VAULT_OPTIONS } from './signin';
import { oneLine } from '../../shared/text';

export type RunCli = (argv: readonly string[], io: CliIo) => Promise<number>;

export interface AgentOptions {
  readonly vaultPath: string;
  readonly socket: string;
  /**
   * Milliseconds without a command after which the session locks, at most (--idle-minutes): the
   * vault's own idle lock, read again at each check and each command, shortens it (an admin who
   * lowers it elsewhere reaches an agent already running, as the app's router reads it at each check).
   */
  readonly idleMs: number;
  readonly now: () => number;
  readonly runCli: RunCli;
  /** The terminal's session leader: the agent ends when it does. */
  readonly leader?: { readonly pid: number; readonly start: string } | undefined;
  /** Ends the session when the screen locks (off in tests that do not run a bus). */
  readonly watchScreen?: boolean;
  readonly env: NodeJS.ProcessEnv;
}

export class UnlockAgent {
  private readonly vault: Vault;
  private readonly held: HeldSession;
  private readonly options: AgentOptions;
  private server: net.Server | undefined;
  private lastUse: number;
  /** The idle limit now: options.idleMs, or the vault's idle lock when shorter (refreshIdle). */
  private idleMs: number;
  private queue: Promise<unknown> = Promise.resolve();
  private stopping: string | undefined;
  /** Commands under way: time spent working in one is not idle time. */
  private running = 0;
  /** Of those, the ones waiting at a prompt: time there is idle time (nobody may be at the keyboard). */
  private atPrompt = 0;
  private readonly timers: (() => void)[] = [];
  private resolveStopped: (reason: string) => void = () => undefined;
  /** Resolves with the reason once the session is locked and the socket gone. */
  readonly stopped = new Promise<string>((resolve) => {
    this.resolveStopped = resolve;
  });

  constructor(vault: Vault, held: Omit<HeldSession, 'ended'>, options: AgentOptions) {
    this.vault = vault;
    this.options = options;
    this.held = { ...held, ended: (reason) => this.stop(reason) };
    this.lastUse = options.now();
    this.idleMs = options.idleMs;
  }

  /** Minutes without a command after which the session locks, as it stands now. */
  get idleMinutes(): number {
    return this.idleMs / 60_000;
  }

  /** Reads the vault's idle lock again: the limit is the shorter of it (0: none) and options.idleMs. A session that cannot read it keeps the last. */
  async refreshIdle(): Promise<void> {
    if (this.stopping !== undefined) return;
    try {
      const minutes = (await this.held.session.vaultSettings.read()).idleLockMinutes;
      this.idleMs = minutes > 0 ? Math.min(minutes * 60_000, this.options.idleMs) : this.options.idleMs;
    } catch {
      // Locked or ended under it: the next check or command finds that out itself.
    }
  }

  get userName(): string {
    return this.held.session.user.name;
  }

  /** Listens on the socket (0600 in a 0700 folder), and starts the idle, terminal and screen watches. */
  async listen(): Promise<void> {
    makePrivateFolder(path.dirname(this.options.socket));
    // A socket file left by an agent that was killed: checked as ours by the caller (checkSocket).
    try {
      unlinkSync(this.options.socket);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const server = net.createServer((socket) => this.serve(socket));
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.options.socket, () => resolve());
      });
    } finally {
      process.umask(umask);
    }
    this.server = server;
    await this.refreshIdle();
    const tick = setInterval(() => void this.refreshIdle().then(() => this.check()), Math.min(5_000, this.options.idleMs));
    tick.unref();
    this.timers.push(() => clearInterval(tick));
    if (this.options.watchScreen !== false) {
      const watch = watchScreenLock(this.options.env, (why) => this.stop(why));
      this.timers.push(watch.stop);
      // Listening before "unlocked" is reported, so a lock right after is not missed; a bus
      // that does not answer within two seconds is not waited for.
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([watch.ready, new Promise<void>((resolve) => { bound = setTimeout(resolve, 2_000); })]);
      clearTimeout(bound);
    }
  }

  /** Ends the session if it has been idle too long or its terminal is gone; true if it ended. */
  check(): boolean {
    if (this.stopping !== undefined) return true;
    const idleFor = this.options.now() - this.lastUse;
    if (this.running === this.atPrompt && idleFor >= this.idleMs) {
      this.stop(`no command for ${Math.round(this.idleMs / 60_000)} minutes`);
      return true;
    }
    const leader = this.options.leader;
    if (leader && processStart(leader.pid) !== leader.start) {
      this.stop('its terminal closed');
      return true;
    }
    return false;
  }

  /** Locks the session, closes the vault and removes the socket. Safe to call more than once. */
  stop(reason: string): void {
    if (this.stopping !== undefined) return;
    this.stopping = reason;
    for (const clear of this.timers) clear();
    this.held.session.lock();
    const closed = this.vault.close();
    this.server?.close();
    try {
      unlinkSync(this.options.socket);
    } catch {
      // Already gone (a later agent may have taken its place: then it is not ours to remove).
    }
    // Stopped once the vault is closed (its journal folded in), however that ends.
    const done = (): void => this.resolveStopped(reason);
    void closed.then(done, done);
  }

  private serve(socket: net.Socket): void {
    const reader = new LineReader(socket);
    const send = (message: AgentMessage): void => {
      if (!socket.destroyed) socket.write(encodeMessage(message));
    };
    socket.on('error', () => undefined);
    void (async () => {
      try {
        const first = await readMessage(reader, ClientMessage);
        if (first === undefined) return;
        // Only the terminal that unlocked: a process of this user in another session (another
        // tab, a cron job, a daemon) is answered as if nothing were unlocked here.
        if (first.t !== 'lock' && !(await this.fromItsTerminal(socket))) {
          send({ t: 'declined' });
          return;
        }
        // Checked before anything else, so a command after the idle time finds the session ended
        // (the time as the vault's idle lock says now).
        await this.refreshIdle();
        if (this.check()) {
          send({ t: 'locked', reason: this.stopping ?? 'locked' });
          return;
        }
        switch (first.t) {
          case 'lock':
            this.stop('crewvault lock');
            send({ t: 'locked', reason: 'crewvault lock' });
            return;
          case 'status': {
            const left = this.idleMs - (this.options.now() - this.lastUse);
            send({ t: 'status', user: this.userName, idleMinutes: this.idleMinutes, idleLeftSeconds: Math.max(0, Math.round(left / 1000)) });
            return;
          }
          case 'run': {
            // One command at a time: each changes the working folder to its own.
            const run = this.queue.then(() => this.run(first, reader, send));
            this.queue = run.catch(() => undefined);
            await run;
            return;
          }
          default:
            return;
        }
      } catch {
        // A peer that broke the protocol: nothing is said back (it may not be ours to answer).
      } finally {
        socket.end();
      }
    })();
  }

  /**
   * Whether every process at the other end of `socket` runs in the terminal's session (the
   * leader's, else this process's own: an agent run in-process). On Linux a peer that cannot be
   * identified is refused (its command then signs in as usual); elsewhere there is no check
   * (SECURITY.md: the session is then bound to the OS user, not the terminal).
   */
  private async fromItsTerminal(socket: net.Socket): Promise<boolean> {
    if (process.platform !== 'linux') return true;
    const expected = this.options.leader?.pid ?? sessionOf('self');
    const sessions = await peerSessions(socket);
    return expected !== undefined && sessions !== undefined && sessions.every((sid) => sid === expected);
  }

  private async run(request: Extract<ClientMessage, { t: 'run' }>, reader: LineReader, send: (message: AgentMessage) => void): Promise<void> {
    if (this.stopping !== undefined) {
      send({ t: 'locked', reason: this.stopping });
      return;
    }
    const [name = '', ...args] = request.argv;
    const who = optionValue(args, 'as') ?? optionValue(args, 'user');
    const vault = optionValue(args, 'vault');
    const sameVault = vault === undefined || path.resolve(request.cwd, vault) === this.options.vaultPath;
    if (!UNLOCKED_COMMANDS.has(name) || !sameVault || (who !== undefined && who.toLowerCase() !== this.userName.toLowerCase())) {
      send({ t: 'declined' });
      return;
    }
    try {
      process.chdir(request.cwd);
    } catch {
      send({ t: 'declined' });
      return;
    }
    this.lastUse = this.options.now();
    const answer = async <T extends ClientMessage['t']>(type: T): Promise<Extract<ClientMessage, { t: T }>> => {
      const message = await readMessage(reader, ClientMessage);
      if (message?.t !== type) throw new UsageError('the command\'s terminal went away');
      return message as Extract<ClientMessage, { t: T }>;
    };
    const io: CliIo = {
      out: (text) => send({ t: 'out', text }),
      err: (text) => send({ t: 'err', text }),
      readSecret: async (prompt) => {
        send({ t: 'ask-secret', prompt });
        return (await this.atItsPrompt(() => answer('secret'))).value;
      },
      readStdin: async (maxBytes) => {
        send({ t: 'ask-stdin', maxBytes });
        const given = (await this.atItsPrompt(() => answer('stdin'))).base64;
        const bytes = given === null ? undefined : Buffer.from(given, 'base64');
        // The client's answer is held to the bound asked, as the process's own stdin is.
        return bytes === undefined || bytes.length > maxBytes ? undefined : bytes;
      },
      interactive: request.interactive,
      now: this.options.now,
      env: this.options.env,
      held: this.held,
    };
    let code: number;
    this.running++;
    try {
      code = await this.options.runCli(request.argv, io);
    } catch (error) {
      // runCli answers every error itself; this is the protocol failing under it.
      send({ t: 'err', text: `crewvault: ${isCrewvaultError(error) ? error.code : 'INTERNAL'}: the command stopped: ${error instanceof Error ? oneLine(error.message) : 'unexpected error'}\n` });
      code = 1;
    } finally {
      this.running--;
    }
    this.lastUse = this.options.now();
    send({ t: 'exit', code });
  }

  /**
   * Waits for the answer to a prompt, counting the wait as idle time: past the idle limit the
   * agent ends (check, on its timer or at the answer) and the answer, whoever typed it, is
   * refused with LOCKED before the command uses it.
   */
  private async atItsPrompt<T>(wait: () => Promise<T>): Promise<T> {
    this.lastUse = this.options.now();
    this.atPrompt++;
    let answered: T;
    try {
      answered = await wait();
      this.check();
    } finally {
      this.atPrompt--;
    }
    if (this.stopping !== undefined) {
      throw new CrewvaultError('LOCKED', `The session locked while this command waited at its prompt (${this.stopping}): nothing was done; run "crewvault unlock" again.`);
    }
    this.lastUse = this.options.now();
    return answered;
  }
}

const AGENT_OPTIONS = {
  ...VAULT_OPTIONS,
  socket: { type: 'string' },
  'idle-minutes': { type: 'string' },
  leader: { type: 'string' },
} as const;

/**
 * `crewvault __agent` (started by `crewvault unlock`, never by hand): signs in with the
 * password and code piped to its standard input, listens, reports one line on standard output
 * (`{"ok":true,…}` or the error), and serves until the session ends.
 */
export async function runAgentProcess(args: string[], io: CliIo, runCli: RunCli): Promise<number> {
  const { values } = parseArgs({ args, options: AGENT_OPTIONS, allowPositionals: false });
  const { socket, vault: vaultPath } = values;
  if (socket === undefined || vaultPath === undefined) throw new UsageError('__agent is started by "crewvault unlock"');
  const minutes = Number(values['idle-minutes'] ?? '10');
  const [pid, start] = (values.leader ?? '').split(':');
  const leader = pid && start ? { pid: Number(pid), start } : undefined;
  let vault: Vault | undefined;
  try {
    vault = Vault.open(vaultPath, { now: io.now });
    const { session, attempt } = await signIn(vault, values, io);
    // The vault's idle lock is the longest a session stays unlocked (read again at each check: refreshIdle); --idle-minutes may shorten it.
    const agent = new UnlockAgent(vault, { session, attempt }, { vaultPath, socket, idleMs: minutes * 60_000, now: io.now, runCli, leader, env: io.env });
    await agent.listen();
    const { idleMinutes } = agent;
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => agent.stop(`signal ${signal}`));
    io.out(`${JSON.stringify({ ok: true, user: agent.userName, idleMinutes })}\n`);
    await agent.stopped;
    return 0;
  } catch (error) {
    await vault?.close();
    const info = isCrewvaultError(error) ? { code: error.code, message: error.message } : { code: 'INTERNAL', message: error instanceof Error ? error.name : 'unexpected error' };
    io.out(`${JSON.stringify({ ok: false, ...info })}\n`);
    return 1;
  }
}
