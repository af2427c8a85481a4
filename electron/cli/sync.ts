/**
 * `crewvault sync [URL]`: one round of team sync between this computer's vault and the team
 * server it is signed in to (crewvault login): others' changes in, this vault's out
 * (electron/team/sync.ts). `--move`: the vault's owner moves it onto the server (the whole
 * vault pushed, once). Asks for the vault's password (or uses `crewvault unlock`'s session),
 * never the server's: that session is the one `crewvault login` kept.
 */
import { parseArgs } from 'node:util';
import { unexpectedArgument, type CliCommand, type CliIo } from './io';
import { keptSession, load } from './login';
import { VAULT_OPTIONS, withSession } from './signin';

export const SYNC_USAGE = 'crewvault sync [URL] [--move] [--vault FILE] [--user NAME] [--code CODE|-] [--json]\n'
  + '  URL     the team server (default: the one you last signed in to with crewvault login)\n'
  + '  --move  push the whole vault to the server first (its owner, once, to make it a team vault)';

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...VAULT_OPTIONS, move: { type: 'boolean' }, json: { type: 'boolean' } }, allowPositionals: true });
  if (positionals.length > 1) throw unexpectedArgument();
  const m = await load();
  const { client, origin } = await keptSession(m, io, positionals[0]);
  const { syncOnce } = await import('../team/sync');
  const outcome = await withSession(values, io, (session) => syncOnce(client, session.replica, { move: values.move === true }));
  if (values.json === true) {
    io.out(`${JSON.stringify({ server: origin, ...outcome })}\n`);
    return 0;
  }
  const copies = outcome.conflictCopies > 0 ? `; ${outcome.conflictCopies} entr${outcome.conflictCopies === 1 ? 'y' : 'ies'} changed here and there kept as "(conflict copy)"` : '';
  io.out(`Synced with ${origin}: ${outcome.applied} change${outcome.applied === 1 ? '' : 's'} taken in, ${outcome.pushed} sent${copies}.\n`);
  return 0;
}

export const syncCommand: CliCommand = { summary: 'sync this vault with its team server (crewvault login first)', usage: SYNC_USAGE, run };
