/** `crewvault passwd`: replace your own password (a one-time password from an admin included). */
import { parseArgs } from 'node:util';
import { CrewvaultError } from '../../shared/errors';
import { unexpectedArgument, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS, withSession } from './signin';

const USAGE = `crewvault passwd [--vault PATH] [--as USER]
  Reads your current password, then the new one (twice on a terminal; once more when piped).`;

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: VAULT_OPTIONS, allowPositionals: true });
  if (positionals.length > 0) throw unexpectedArgument();
  const name = await withSession(values, io, async (session, current) => {
    const next = await io.readSecret('New password: ');
    if (io.interactive && (await io.readSecret('Repeat the new password: ')) !== next) {
      throw new CrewvaultError('INVALID_INPUT', 'The two passwords differ; nothing was changed.');
    }
    await session.changePassword(current, next);
    return session.user.name;
  }, { allowOneTimePassword: true });
  io.out(`Changed the password of ${name}; your other sessions have ended.\n`);
  return 0;
}

export const passwdCommand: CliCommand = { summary: 'change your own password', usage: USAGE, run };
