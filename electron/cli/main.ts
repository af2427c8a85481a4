/**
 * The `crewvault` command line: one file per command, registered here. Errors leave as one
 * line on stderr with their stable code and no stack trace: exit 1 for a failure (bad secret,
 * not found, wrong password), 2 for a usage mistake. Never prints a secret in an error.
 */
import { isCrewvaultError } from '../../shared/errors';
import { oneLine } from '../../shared/text';
import { translateSqliteError } from '../vault/db';
import { addCommand } from './add';
import { auditCommand } from './audit';
import { backupCommand, restoreCommand } from './backup';
import { codeCommand } from './code';
import { completionCommand } from './completion';
import { exportCommand } from './export';
import { initCommand } from './init';
import { listCommand } from './list';
import { loginCommand, logoutCommand, whoamiCommand } from './login';
import { otpCommand } from './otp';
import { rmCommand } from './rm';
import { SERVE_SUMMARY, SERVE_USAGE } from './serve-usage';
import { serverCommand } from './server';
import { JOIN_SUMMARY, JOIN_USAGE, SYNC_SUMMARY, SYNC_USAGE, TEAM_SUMMARY, TEAM_USAGE } from './team-usage';
import { IMPORT_SUMMARY, IMPORT_USAGE } from './import-usage';
import { userCommand } from './user';
import { groupCommand } from './group';
import { mfaCommand } from './mfa';
import { moveCommand } from './move';
import { passwdCommand } from './passwd';
import { policyCommand } from './policy';
import { roleCommand } from './role';
import { settingsCommand } from './settings';
import { showCommand } from './show';
import { AGENT_COMMAND, LOCK_SUMMARY, LOCK_USAGE, runUnlocked, UNLOCK_SUMMARY, UNLOCK_USAGE } from './agent-commands';
import { UsageError, type CliCommand, type CliIo } from './io';

declare const CREWVAULT_VERSION: string | undefined;

const COMMANDS: Readonly<Record<string, CliCommand>> = {
  code: codeCommand,
  init: initCommand,
  add: addCommand,
  list: listCommand,
  otp: otpCommand,
  show: showCommand,
  rm: rmCommand,
  // Loaded when it runs: every importer, which no other command needs (import-usage.ts).
  import: { summary: IMPORT_SUMMARY, usage: IMPORT_USAGE, run: async (args, io) => (await import('./import')).importCommand.run(args, io) },
  export: exportCommand,
  audit: auditCommand,
  backup: backupCommand, restore: restoreCommand,
  move: moveCommand,
  passwd: passwdCommand,
  role: roleCommand,
  user: userCommand,
  group: groupCommand,
  mfa: mfaCommand,
  policy: policyCommand,
  settings: settingsCommand,
  serve: { summary: SERVE_SUMMARY, usage: SERVE_USAGE, run: async (args, io) => (await import('./serve')).serveCommand.run(args, io) },
  server: serverCommand,
  login: loginCommand,
  whoami: whoamiCommand,
  logout: logoutCommand,
  // Loaded when they run: the sync record schemas and account keys (zod) no other command needs (team-usage.ts).
  sync: { summary: SYNC_SUMMARY, usage: SYNC_USAGE, run: async (args, io) => (await import('./sync')).syncCommand.run(args, io) },
  join: { summary: JOIN_SUMMARY, usage: JOIN_USAGE, run: async (args, io) => (await import('./join')).joinCommand.run(args, io) },
  team: { summary: TEAM_SUMMARY, usage: TEAM_USAGE, run: async (args, io) => (await import('./team-admin')).teamCommand.run(args, io) },
  // Loaded when they run, with the agent's protocol (agent-commands.ts is all a start needs).
  unlock: { summary: UNLOCK_SUMMARY, usage: UNLOCK_USAGE, run: async (args, io) => (await import('./unlock')).unlockCommand.run(args, io) },
  lock: { summary: LOCK_SUMMARY, usage: LOCK_USAGE, run: async (args, io) => (await import('./unlock')).lockCommand.run(args, io) },
  completion: completionCommand(() => COMMANDS),
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)} ${c.summary}`);
  return `Crewvault — a desktop vault for IT teams' shared credentials and OTP codes.\n\nUsage: crewvault <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "crewvault <command> --help" for a command's options.\n`;
}

function isParseArgsError(error: unknown): error is Error & { code: string } {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('ERR_PARSE_ARGS');
}

/**
 * parseArgs's errors in our words. Its own text is several lines about Node's syntax ("place
 * it at the end of the command after '--'"), and quotes a stray argument, which may be a
 * secret typed in the wrong place. Only the option's name is taken from it, never a value
 * (parseArgs names `--frob` for `--frob=VALUE`); a message whose shape Node changes still
 * gets a plain line.
 */
function parseArgsMessage(error: Error & { code: string }): string {
  const option = /'(-{1,2}[^'\s=<]+)/.exec(error.message)?.[1];
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return option === undefined ? 'unknown option' : `unknown option ${option}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (option === undefined) return 'an option is missing its value, or has one it does not take';
      // "does not take an argument": a boolean given a value; otherwise a value is missing, or
      // is the next option (`--vault --json`).
      return /does not take/.test(error.message) ? `${option} takes no value` : `${option} needs a value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return 'this command takes options only (the extra argument is not shown, in case it is a secret)';
    default:
      return 'the options are not valid';
  }
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.out(`${typeof CREWVAULT_VERSION === 'string' ? CREWVAULT_VERSION : 'dev'}\n`);
    return 0;
  }
  // Started by `crewvault unlock` only (unlock.ts), so not in COMMANDS, help or completion.
  if (name === AGENT_COMMAND && !io.held) return runCommand(name, args, io, { summary: '', usage: 'started by crewvault unlock', run: async (agentArgs, agentIo) => (await import('./agent')).runAgentProcess(agentArgs, agentIo, runCli) });
  const command = COMMANDS[name];
  if (!command) {
    io.err(`crewvault: USAGE: unknown command "${oneLine(name, 60)}" (commands: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.out(`Usage: ${command.usage}\n`);
    return 0;
  }
  return runCommand(name, args, io, command);
}

async function runCommand(name: string, args: string[], io: CliIo, command: CliCommand): Promise<number> {
  try {
    // In a terminal that ran `crewvault unlock`, the session held there runs it (agent-commands.ts).
    return (await runUnlocked(name, args, io)) ?? (await command.run(args, io));
  } catch (caught) {
    const error = translateSqliteError(caught);
    if (error instanceof UsageError || isParseArgsError(error)) {
      const message = isParseArgsError(error) ? parseArgsMessage(error) : error.message;
      io.err(`crewvault: USAGE: ${oneLine(message)} (see "crewvault ${name} --help")\n`);
      return 2;
    }
    if (isCrewvaultError(error)) {
      io.err(`crewvault: ${error.code}: ${oneLine(error.message)}\n`);
      return error.code === 'USAGE' ? 2 : 1;
    }
    // An unexpected failure: name it without its stack (which is for developers, not users).
    io.err(`crewvault: INTERNAL: ${error instanceof Error ? error.name : 'unexpected error'} (set CREWVAULT_DEBUG=1 for details)\n`);
    if (process.env.CREWVAULT_DEBUG === '1') io.err(`${error instanceof Error ? (error.stack ?? '') : String(error)}\n`);
    return 1;
  }
}
