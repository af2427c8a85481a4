/**
 * The `crewvault` command line: one file per command, registered here. Errors leave as one
 * line on stderr with their stable code and no stack trace: exit 1 for a failure (bad secret,
 * not found, wrong password), 2 for a usage mistake. Never prints a secret in an error.
 */
import { isCrewvaultError } from '../../shared/errors';
import { translateSqliteError } from '../vault/db';
import { addCommand } from './add';
import { auditCommand } from './audit';
import { codeCommand } from './code';
import { importCommand } from './import';
import { initCommand } from './init';
import { listCommand } from './list';
import { otpCommand } from './otp';
import { rmCommand } from './rm';
import { SERVE_SUMMARY, SERVE_USAGE } from './serve-usage';
import { userCommand } from './user';
import { groupCommand } from './group';
import { mfaCommand } from './mfa';
import { moveCommand } from './move';
import { passwdCommand } from './passwd';
import { policyCommand } from './policy';
import { roleCommand } from './role';
import { showCommand } from './show';
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
  import: importCommand,
  audit: auditCommand,
  move: moveCommand,
  passwd: passwdCommand,
  role: roleCommand,
  user: userCommand,
  group: groupCommand,
  mfa: mfaCommand,
  policy: policyCommand,
  serve: { summary: SERVE_SUMMARY, usage: SERVE_USAGE, run: async (args, io) => (await import('./serve')).serveCommand.run(args, io) },
};

function help(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return `Crewvault — a desktop vault for IT teams' shared credentials and OTP codes.\n\nUsage: crewvault <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "crewvault <command> --help" for a command's options.\n`;
}

function isParseArgsError(error: unknown): error is Error & { code: string } {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('ERR_PARSE_ARGS');
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
  const command = COMMANDS[name];
  if (!command) {
    io.err(`crewvault: USAGE: unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.out(`Usage: ${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (caught) {
    const error = translateSqliteError(caught);
    if (error instanceof UsageError || isParseArgsError(error)) {
      io.err(`crewvault: USAGE: ${error.message.split('\n')[0]} (see "crewvault ${name} --help")\n`);
      return 2;
    }
    if (isCrewvaultError(error)) {
      io.err(`crewvault: ${error.code}: ${error.message}\n`);
      return error.code === 'USAGE' ? 2 : 1;
    }
    // An unexpected failure: name it without its stack (which is for developers, not users).
    io.err(`crewvault: INTERNAL: ${error instanceof Error ? error.name : 'unexpected error'} (set CREWVAULT_DEBUG=1 for details)\n`);
    if (process.env.CREWVAULT_DEBUG === '1') io.err(`${error instanceof Error ? (error.stack ?? '') : String(error)}\n`);
    return 1;
  }
}
