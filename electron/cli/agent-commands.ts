/**
 * What every CLI start needs to know of `crewvault unlock`, and nothing heavier: which
 * commands an unlocked session runs, the hidden command that starts its agent, and whether
 * this terminal holds one for the vault a command names (node:fs only). The socket's protocol,
 * zod and the agent itself are loaded only when there is a socket to talk to.
 */
import path from 'node:path';
import { defaultVaultPath } from '../paths';
import { agentSocket, checkSocket, currentTerminal } from './agent-place';
import type { CliIo } from './io';

/** The hidden command that runs the agent (main.ts); not listed in help or completion. */
export const AGENT_COMMAND = '__agent';

/**
 * The commands an unlocked session runs: everyday reading and writing of entries. Commands that
 * change who may do what, the second step or the password (user, group, role, policy, mfa,
 * passwd) and whole-vault copies (backup, restore) still sign in with password and code each time.
 */
export const UNLOCKED_COMMANDS: ReadonlySet<string> = new Set(['list', 'otp', 'show', 'add', 'rm', 'move', 'import', 'export', 'audit']);

export const UNLOCK_SUMMARY = 'sign in once for this terminal (then "crewvault lock")';
export const UNLOCK_USAGE = `crewvault unlock [--vault PATH] [--user NAME] [--code CODE | --code - | --recovery-code - | --emergency-code CODE] [--idle-minutes N] [--status]
  Signs in once for this terminal: until "crewvault lock", N minutes without a command (at most
  the vault's idle lock, 10 by default), the screen locking or the terminal closing, these run
  without password or code: ${[...UNLOCKED_COMMANDS].join(', ')}.
  --status  who is unlocked here, and for how long yet`;
export const LOCK_SUMMARY = 'end the session "crewvault unlock" began here';
export const LOCK_USAGE = 'crewvault lock [--vault PATH]\n  Ends the session "crewvault unlock" began in this terminal.';

/** The value of `--name VALUE` or `--name=VALUE` in a command's arguments, if given. */
export function optionValue(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') return undefined;
    if (arg === `--${name}`) return args[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

/**
 * The socket of this terminal's unlocked session for `vault`, if one is there (FORBIDDEN when
 * it, or its folder, is not private to this user); undefined when nothing was unlocked here.
 */
export function heldSocket(env: NodeJS.ProcessEnv, vault: string): string | undefined {
  const socket = agentSocket(env, vault, currentTerminal());
  try {
    return checkSocket(socket) === 'present' ? socket : undefined;
  } catch (error) {
    // No agent folder at all: nothing was ever unlocked here.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Runs `name args` in this terminal's unlocked session, if there is one: its exit status, or
 * undefined when the command should sign in as usual (nothing unlocked, another user named,
 * a command the agent does not run, the session just ended).
 */
export async function runUnlocked(name: string, args: readonly string[], io: CliIo): Promise<number | undefined> {
  if (io.held || !UNLOCKED_COMMANDS.has(name)) return undefined;
  const socket = heldSocket(io.env, path.resolve(optionValue(args, 'vault') ?? defaultVaultPath(io.env)));
  if (socket === undefined) return undefined;
  return (await import('./agent-client')).runThroughAgent(socket, [name, ...args], io);
}
