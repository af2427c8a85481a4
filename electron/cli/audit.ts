/** `crewvault audit`: reads the audit log; `audit verify` checks its hash chain (no password). */
import { parseArgs } from 'node:util';
import { CrewvaultError } from '../../shared/errors';
import { UsageError, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS, withSession, withVault } from './signin';

const USAGE = 'crewvault audit [--vault PATH] [--user NAME] [verify] [--json]';

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...VAULT_OPTIONS, json: { type: 'boolean' } }, allowPositionals: true });
  const [sub, ...rest] = positionals;
  if (rest.length > 0 || (sub !== undefined && sub !== 'verify')) throw new UsageError('the only subcommand is "verify"');
  if (sub === 'verify') {
    const result = await withVault(values, io, (vault) => vault.verifyAudit());
    if (!result.ok) throw new CrewvaultError('VAULT_TAMPERED', `Audit log broken at row ${result.brokenAt}: ${result.reason}.`);
    io.out(`Audit log intact: ${result.rows} rows, every link verified.\n`);
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
