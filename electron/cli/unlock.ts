/**
 * `crewvault unlock` and `crewvault lock`, and the other end of the agent's socket: a command
 * typed in a terminal that holds an unlocked session is run by that session's agent (agent.ts)
 * instead of signing in. The password and code go to the agent on its standard input (a pipe),
 * never in its arguments or environment; the agent's arguments name only the vault, the socket
 * and the idle time.
 */
import { spawn } from 'node:child_process';
import { unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { CrewvaultError, ERROR_CODES } from '../../shared/errors';
import { defaultVaultPath } from '../paths';
import { agentSocket, checkSocket, currentTerminal, makePrivateFolder, agentFolder } from './agent-place';
import { AgentMessage, encodeMessage, readMessage, type ClientMessage } from './agent-protocol';
import { optionValue, UNLOCKED_COMMANDS } from './agent';
import { LineReader } from './bounded-input';
import { unexpectedArgument, UsageError, type CliCommand, type CliIo } from './io';
import { checkSecondStepOptions, givenFactor, VAULT_OPTIONS, vaultPath } from './signin';

/** The hidden command that runs the agent (main.ts); not listed in help or completion. */
export const AGENT_COMMAND = '__agent';

const UNLOCK_USAGE = `crewvault unlock [--vault PATH] [--user NAME] [--code CODE | --code - | --recovery-code - | --emergency-code CODE] [--idle-minutes N] [--status]
  Signs in once for this terminal: until "crewvault lock", N minutes without a command (at most
  the vault's idle lock, 10 by default), the screen locking or the terminal closing, these run
  without password or code: ${[...UNLOCKED_COMMANDS].join(', ')}.
  --status  who is unlocked here, and for how long yet`;

const LOCK_USAGE = 'crewvault lock [--vault PATH]\n  Ends the session "crewvault unlock" began in this terminal.';

interface Connection {
  readonly reader: LineReader;
  readonly send: (message: ClientMessage) => void;
  readonly close: () => void;
}

/** Connects to this terminal's agent for `vault`; undefined when none runs (a stale socket is removed). */
async function connect(env: NodeJS.ProcessEnv, vault: string): Promise<Connection | undefined> {
  const socketPath = agentSocket(env, vault, currentTerminal());
  try {
    if (checkSocket(socketPath) === 'absent') return undefined;
  } catch (error) {
    // No agent folder at all: nothing was ever unlocked here.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const socket = net.createConnection(socketPath);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ECONNREFUSED' && code !== 'ENOENT') throw error;
    // The agent was killed without removing its socket (checkSocket found it ours).
    try {
      unlinkSync(socketPath);
    } catch {
      // Gone already.
    }
    return undefined;
  }
  socket.on('error', () => undefined);
  return {
    reader: new LineReader(socket),
    send: (message) => {
      socket.write(encodeMessage(message));
    },
    close: () => socket.end(),
  };
}

function vaultOf(args: readonly string[], io: CliIo): string {
  return path.resolve(optionValue(args, 'vault') ?? defaultVaultPath(io.env));
}

/**
 * Runs `name args` in this terminal's unlocked session, if there is one: its exit status, or
 * undefined when the command should sign in as usual (nothing unlocked, another user named,
 * a command the agent does not run, the session just ended).
 */
export async function runUnlocked(name: string, args: readonly string[], io: CliIo): Promise<number | undefined> {
  if (io.held || !UNLOCKED_COMMANDS.has(name)) return undefined;
  const connection = await connect(io.env, vaultOf(args, io));
  if (!connection) return undefined;
  const { reader, send } = connection;
  try {
    send({ t: 'run', argv: [name, ...args], cwd: process.cwd(), interactive: io.interactive });
    for (;;) {
      const message = await readMessage(reader, AgentMessage);
      if (message === undefined) throw new CrewvaultError('LOCKED', 'The unlocked session ended while the command ran.');
      switch (message.t) {
        case 'out':
          io.out(message.text);
          break;
        case 'err':
          io.err(message.text);
          break;
        case 'ask-secret':
          send({ t: 'secret', value: await io.readSecret(message.prompt) });
          break;
        case 'ask-stdin':
          send({ t: 'stdin', text: (await io.readStdin(message.maxBytes)) ?? null });
          break;
        case 'exit':
          return message.code;
        case 'declined':
          return undefined;
        case 'locked':
          io.err(`crewvault: the unlocked session ended (${message.reason}); signing in as usual.\n`);
          return undefined;
        case 'status':
          return undefined;
      }
    }
  } finally {
    connection.close();
  }
}

const AgentReport = z.union([
  z.object({ ok: z.literal(true), user: z.string(), idleMinutes: z.number() }),
  z.object({ ok: z.literal(false), code: z.enum(ERROR_CODES), message: z.string() }),
]);

/** The file that runs this CLI (bin/crewvault.mjs, or the built bundle), for the agent. */
function cliScript(): string {
  const script = process.argv[1];
  if (script === undefined) throw new CrewvaultError('INTERNAL', 'Cannot tell which file runs this CLI.');
  return script;
}

async function unlock(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...VAULT_OPTIONS, 'idle-minutes': { type: 'string' }, status: { type: 'boolean' } } });
  if (positionals.length > 0) throw unexpectedArgument();
  const minutes = values['idle-minutes'] ?? '10';
  if (!/^\d{1,4}$/.test(minutes) || Number(minutes) < 1 || Number(minutes) > 1440) throw new UsageError('--idle-minutes is a whole number from 1 to 1440');
  checkSecondStepOptions(values);
  const vault = path.resolve(vaultPath(values, io));
  const existing = await connect(io.env, vault);
  if (existing) {
    existing.send({ t: 'status' });
    const status = await readMessage(existing.reader, AgentMessage).finally(() => existing.close());
    if (status?.t === 'status') {
      io.out(`Unlocked for ${status.user} in this terminal; it locks after ${Math.ceil(status.idleLeftSeconds / 60)} more minutes without a command. "crewvault lock" ends it.\n`);
      return 0;
    }
  }
  if (values.status) {
    io.out('Nothing is unlocked in this terminal.\n');
    return 1;
  }
  makePrivateFolder(agentFolder(io.env));
  const terminal = currentTerminal();
  const who = values.as ?? values.user;
  const password = await io.readSecret(`Password for ${who ?? 'the vault'}: `);
  const factor = await givenFactor(values, io);
  // The agent reads these as a piped CLI reads secrets: one line each, on its standard input.
  const lines = [password];
  const agentArgs = [AGENT_COMMAND, '--vault', vault, '--socket', agentSocket(io.env, vault, terminal), '--idle-minutes', minutes];
  if (who !== undefined) agentArgs.push('--user', who);
  for (const [option, value] of [['code', factor.code], ['recovery-code', factor.recoveryCode], ['emergency-code', factor.emergencyCode]] as const) {
    if (value === undefined) continue;
    agentArgs.push(`--${option}`, '-');
    lines.push(value);
  }
  if (terminal.leader) agentArgs.push('--leader', `${terminal.leader.pid}:${terminal.leader.start}`);
  // Its own session (setsid), so Ctrl+C in this terminal does not end it; it watches the terminal instead.
  const child = spawn(process.execPath, [cliScript(), ...agentArgs], { detached: true, stdio: ['pipe', 'pipe', 'ignore'], cwd: path.parse(vault).root });
  child.stdin.on('error', () => undefined);
  child.stdin.end(`${lines.join('\n')}\n`);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new LineReader(child.stdout).line(64 * 1024);
  child.stdout.destroy();
  let report: z.infer<typeof AgentReport> | undefined;
  try {
    report = AgentReport.parse(JSON.parse(line ?? ''));
  } catch {
    report = undefined;
  }
  if (report?.ok !== true) {
    // A failed agent is gone before this command says so.
    await exited;
    if (report === undefined) throw new CrewvaultError('INTERNAL', 'The unlock agent did not start.');
    throw new CrewvaultError(report.code, report.message);
  }
  child.unref();
  io.out(`Unlocked for ${report.user} in this terminal until "crewvault lock", ${report.idleMinutes} minutes without a command, the screen locking or the terminal closing.\n`);
  return 0;
}

async function lock(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { vault: { type: 'string' } } });
  if (positionals.length > 0) throw unexpectedArgument();
  const connection = await connect(io.env, path.resolve(values.vault ?? defaultVaultPath(io.env)));
  if (!connection) {
    io.out('Nothing was unlocked in this terminal.\n');
    return 0;
  }
  try {
    connection.send({ t: 'lock' });
    await readMessage(connection.reader, AgentMessage);
  } finally {
    connection.close();
  }
  io.out('Locked.\n');
  return 0;
}

export const unlockCommand: CliCommand = { summary: 'sign in once for this terminal (then "crewvault lock")', usage: UNLOCK_USAGE, run: unlock };
export const lockCommand: CliCommand = { summary: 'end the session "crewvault unlock" began here', usage: LOCK_USAGE, run: lock };
