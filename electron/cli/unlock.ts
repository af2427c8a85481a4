/**
 * `crewvault unlock` and `crewvault lock` (loaded when one of them runs). Unlock starts the
 * agent (agent.ts) that holds the session; a command typed later in this terminal is run there
 * (agent-commands.ts, agent-client.ts). The password and code go to the agent on its standard
 * input (a pipe), never in its arguments or environment; the agent's arguments name only the
 * vault, the socket and the idle time.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { CrewvaultError, ERROR_CODES } from '../../shared/errors';
import { defaultVaultPath } from '../paths';
import { connectAgent, type Connection } from './agent-client';
import { canTellPeers, sessionOf } from './agent-peer';
import { AGENT_COMMAND, heldSocket, LOCK_SUMMARY, LOCK_USAGE, UNLOCK_SUMMARY, UNLOCK_USAGE } from './agent-commands';
import { agentSocket, currentTerminal, makePrivateFolder, agentFolder } from './agent-place';
import { AgentMessage, readMessage } from './agent-protocol';
import { LineReader } from './bounded-input';
import { unexpectedArgument, UsageError, type CliCommand, type CliIo } from './io';
import { checkSecondStepOptions, givenFactor, VAULT_OPTIONS, vaultPath } from './signin';

/** Connects to this terminal's agent for `vault`, if there is one. */
async function connect(env: NodeJS.ProcessEnv, vault: string): Promise<Connection | undefined> {
  const socket = heldSocket(env, vault);
  return socket === undefined ? undefined : connectAgent(socket);
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
  // The agent serves only this terminal's processes (agent-peer.ts): where it cannot tell who asks,
  // every command would be declined, so nothing is started and the person is told why.
  if (!(await canTellPeers())) {
    // A session id of 0: this process's session leader is outside its PID namespace (a container
    // entered without a terminal), so no process here can be told to be in this terminal.
    const why = sessionOf('self') === undefined ? 'this process is in no login session visible here (a container entered without a terminal?)' : 'it needs "ss" (iproute2) and /proc to tell which process asks; install iproute2';
    throw new CrewvaultError('INTERNAL', `Unlock cannot work here: ${why}, so every command would be declined; run commands without unlock.`);
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

export const unlockCommand: CliCommand = { summary: UNLOCK_SUMMARY, usage: UNLOCK_USAGE, run: unlock };
export const lockCommand: CliCommand = { summary: LOCK_SUMMARY, usage: LOCK_USAGE, run: lock };
