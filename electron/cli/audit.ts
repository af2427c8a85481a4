/**
 * `crewvault audit`: reads the audit log; `audit verify` checks its hash chain (no password),
 * and with `--keyed` also the keyed anchor, which needs someone who can read the audit log
 * to sign in (it catches a chain rewritten with every hash recomputed).
 */
import { parseArgs } from 'node:util';
import { CrewvaultError } from '../../shared/errors';
import { UsageError, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS, withSession, withVault } from './signin';

const USAGE = 'crewvault audit [--vault PATH] [--user NAME] [verify [--keyed]] [--json]';

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...VAULT_OPTIONS, json: { type: 'boolean' }, keyed: { type: 'boolean' } }, allowPositionals: true });
  const [sub, ...rest] = positionals;
  if (rest.length > 0 || (sub !== undefined && sub !== 'verify')) throw new UsageError('the only subcommand is "verify"');
  if (values.keyed && sub !== 'verify') throw new UsageError('--keyed goes with "verify"');
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

export const auditCommand: CliCommand = { summary: 'read the audit log, or verify its chain', usage: USAGE, run };
