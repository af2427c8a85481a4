/** `crewvault show`: one entry's fields; the password and OTP key only with --reveal (audited). */
import { parseArgs } from 'node:util';
import { UsageError, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS, withSession } from './signin';

const USAGE = `crewvault show [--vault PATH] [--user NAME] "Customer/Title" [--reveal] [--json]
  --json  the entry as one JSON object (with its revision, which "rm --if-revision N" names);
          the password and OTP key only with --reveal, as in the text form.`;

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...VAULT_OPTIONS, reveal: { type: 'boolean' }, json: { type: 'boolean' } }, allowPositionals: true });
  const [path, ...rest] = positionals;
  if (path === undefined || rest.length > 0) throw new UsageError('name exactly one entry as "Customer/Title"');
  const { entry, lines, revealed } = await withSession(values, io, async (session) => {
    const entry = await session.getEntry((await session.resolvePath(path)).id);
    const revealed: { password?: string; otpKey?: string } = {};
    const out: Array<[string, string]> = [
      ['Customer', entry.customer],
      ['Title', entry.title],
      ['Username', entry.username],
      ['URL', entry.url],
      // null: notes are sealed with the secrets, and this role may not see them.
      ['Notes', entry.notes === null ? '(hidden from your role)' : entry.notes.replace(/\r?\n/g, '\n       ')],
    ];
    if (values.reveal) {
      if (entry.hasPassword) revealed.password = await session.revealPassword(entry.id);
      if (entry.otp) revealed.otpKey = (await session.revealOtpSecret(entry.id)).secret;
      if (revealed.password !== undefined) out.push(['Password', revealed.password]);
      if (revealed.otpKey !== undefined) out.push(['OTP key', revealed.otpKey]);
    } else {
      out.push(['Password', entry.hasPassword ? '(hidden: --reveal shows it)' : '']);
    }
    const otp = entry.otp;
    if (otp) out.push(['OTP', otp.algorithm === undefined ? otp.kind.toUpperCase() : `${otp.kind.toUpperCase()} ${otp.algorithm}, ${otp.digits ?? 6} digits${otp.kind === 'hotp' ? '' : `, ${otp.period ?? 30} s`}`]);
    out.push(['Revision', String(entry.revision)]);
    return { entry, lines: out, revealed };
  });
  if (values.json) {
    io.out(`${JSON.stringify({ ...entry, ...revealed })}\n`);
    return 0;
  }
  for (const [name, value] of lines) io.out(`${`${name}:`.padEnd(10)} ${value}\n`);
  return 0;
}

export const showCommand: CliCommand = { summary: 'show an entry (--reveal for its password and OTP key)', usage: USAGE, run };
