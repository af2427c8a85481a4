/**
 * `crewvault audit`: reads the audit log; `audit verify` checks its hash chain (no password),
 * and with `--keyed` also the keyed anchor, which needs someone who can read the audit log
 * to sign in (it catches a chain rewritten with every hash recomputed). `audit verify --server`:
 * the whole history of the team vault as the server it is signed in to holds it (every desktop's
 * events, in the server's order), checked against this vault's signing keys
 * (electron/team/history-verify.ts).
 */
import { parseArgs } from 'node:util';
import { CrewvaultError } from '../../shared/errors';
import { UsageError, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS, withSession, withVault } from './signin';

const USAGE = 'crewvault audit [--vault PATH] [--user NAME] [verify [--keyed] [--server [URL]]] [--json]';

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...VAULT_OPTIONS, json: { type: 'boolean' }, keyed: { type: 'boolean' }, server: { type: 'boolean' } }, allowPositionals: true });
  const [sub, ...rest] = positionals;
  if (values.server === true && sub === 'verify' && rest.length <= 1) return verifyOnServer(values, rest[0], io);
  if (rest.length > 0 || (sub !== undefined && sub !== 'verify')) throw new UsageError('the only subcommand is "verify"');
  if ((values.keyed || values.server) && sub !== 'verify') throw new UsageError('--keyed and --server go with "verify"');
  if (sub === 'verify') {
    const { chain, anchor } = values.keyed
      ? await withSession(values, io, (session) => session.verifyAuditLog())
      : { chain: await withVault(values, io, (vault) => vault.verifyAudit()), anchor: undefined };
    if (!chain.ok) throw new CrewvaultError('VAULT_TAMPERED', `Audit log broken at row ${chain.brokenAt}: ${chain.reason}.`);
    if (anchor && !anchor.ok) throw new CrewvaultError('VAULT_TAMPERED', `Audit log rewritten: ${anchor.reason}.`);
    const keyed = anchor ? (anchor.anchoredRow > 0 ? `; the keyed anchor at row ${anchor.anchoredRow} holds` : '; no keyed anchor yet (a vault from before it)') : '';
    io.out(`Audit log intact: ${chain.rows} rows, every link verified${keyed}.\n`);
    return 0;
  }
  const records = await withSession(values, io, (session) => session.auditLog());
  if (values.json) {
    io.out(`${JSON.stringify(records)}\n`);
  } else {
    for (const r of records) io.out(`${new Date(r.at).toISOString()}  ${r.actor ?? '-'}  ${r.action}  ${r.detail}\n`);
  }
  return 0;
}

/** `audit verify --server [URL]`: the team vault's whole history as that server holds it. */
async function verifyOnServer(values: Parameters<typeof withSession>[0], url: string | undefined, io: CliIo): Promise<number> {
  const [{ keptSession, load }, { pullHistory, verifyServerHistory }] = await Promise.all([import('./login'), import('../team/history-verify')]);
  const { client, origin } = await keptSession(await load(), io, url);
  return withSession(values, io, async (session) => {
    const vault = await session.replica.vaultId();
    const check = verifyServerHistory(vault, await pullHistory(client, vault), await session.replica.signingKeysHeld());
    if (!check.ok) throw new CrewvaultError('VAULT_TAMPERED', `The audit history on ${origin} is broken at sequence ${check.seq}: ${check.reason}.`);
    io.out(`Audit history on ${origin} intact: ${check.events} events from ${check.devices} device${check.devices === 1 ? '' : 's'}, each signed by its author and in its device's order.\n`);
    return 0;
  });
}

export const auditCommand: CliCommand = { summary: 'read the audit log, or verify its chain', usage: USAGE, run };
