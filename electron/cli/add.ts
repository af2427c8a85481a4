/**
 * `crewvault add`: a new entry. Its password and OTP key are read like the user's own password
 * (a hidden prompt, or the next line of piped stdin), never taken as arguments, where the
 * process list and shell history would keep them: `--otp` accepts only "-".
 */
import { parseArgs } from 'node:util';
import { unexpectedArgument, UsageError, type CliCommand, type CliIo } from './io';
import { readOtpInput } from './otp-input';
import { VAULT_OPTIONS, withSession } from './signin';

const USAGE = `crewvault add [--vault PATH] [--user NAME] --customer C --title T [--username U] [--url URL]
              [--notes -] [--otp -] [--password-prompt] [--group GROUP]
  Asked on a terminal, or piped on stdin one per line: your password, then the entry's password
  (--password-prompt), then the OTP URI or secret key (--otp -), then the notes (--notes -).`;

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...VAULT_OPTIONS,
      customer: { type: 'string' },
      title: { type: 'string' },
      username: { type: 'string' },
      url: { type: 'string' },
      notes: { type: 'string' },
      otp: { type: 'string' },
      group: { type: 'string' },
      'password-prompt': { type: 'boolean' },
    },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw unexpectedArgument();
  if (values.customer === undefined || values.title === undefined) throw new UsageError('--customer and --title are required');
  // Refused before any password is asked, and never quoted back: the value is the secret.
  if (values.otp !== undefined && values.otp !== '-') {
    throw new UsageError('--otp takes only "-": the URI or secret key is then read like a password (a prompt, or the next line of piped stdin), as an argument would show in the process list');
  }
  // Notes are sealed with the secrets (they often hold backup codes): read like them too.
  if (values.notes !== undefined && values.notes !== '-') {
    throw new UsageError('--notes takes only "-": the notes are then read like a password (a prompt, or the next line of piped stdin), as an argument would show in the process list');
  }
  const { customer, title } = values;
  const created = await withSession(values, io, async (session) => {
    const password = values['password-prompt'] ? await io.readSecret('Entry password: ') : undefined;
    const otp = values.otp === '-' ? readOtpInput(await io.readSecret('OTP URI or secret key: '), io) : undefined;
    const notes = values.notes === '-' ? await io.readSecret('Notes: ') : undefined;
    const groupId = values.group === undefined ? undefined : await session.team.resolveGroup(values.group);
    return session.createEntry({
      ...(groupId === undefined ? {} : { groupId }),
      customer,
      title,
      ...(values.username === undefined ? {} : { username: values.username }),
      ...(values.url === undefined ? {} : { url: values.url }),
      ...(notes === undefined ? {} : { notes }),
      ...(password === undefined ? {} : { password }),
      ...(otp === undefined ? {} : { otp }),
    });
  });
  io.out(`Added ${created.customer}/${created.title} (id ${created.id}).\n`);
  return 0;
}

export const addCommand: CliCommand = { summary: 'add an entry', usage: USAGE, run };
