// Review round eleven, what held (#11/#13): probes of this session's fixes that pass, kept for the
// coverage they add. The whole audit export read a page at a time while another session writes
// between the pages: every row once, in order, the new rows at the end; a role creation (base 0)
// of a name that exists under another case or spacing is refused, the stored role unchanged.
// Real vault files, two sessions on one file. Must never print a secret.
import { describe, expect, it } from 'vitest';
import { CrewvaultError } from '../../shared/errors';
import { Vault } from '../../electron/vault/vault';
import { newVault, OWNER, PASSWORD } from '../support/vault';

async function codeOf(pending: Promise<unknown>): Promise<string> {
  try {
    await pending;
    return 'ok';
  } catch (error) {
    return error instanceof CrewvaultError ? error.code : String(error);
  }
}

describe('held: the audit export a page at a time while rows arrive', () => {
  it('rows another session writes between pages come once, after every row before them; none skipped or repeated', async () => {
    const { file, session: mine, clock } = await newVault();
    for (let i = 0; i < 12; i++) await mine.createEntry({ customer: 'Acme', title: `Row ${i}`, password: 'x' });
    const elsewhere = Vault.open(file, clock);
    const theirs = await elsewhere.signIn(OWNER, PASSWORD);
    const seen: number[] = [];
    let after: number | null = 0;
    let pages = 0;
    while (after !== null) {
      const page = await mine.auditExportPage(after, 5);
      seen.push(...page.records.map((r) => r.id));
      after = page.next;
      pages += 1;
      if (pages <= 3) await theirs.createEntry({ customer: 'Acme', title: `Meanwhile ${pages}`, password: 'y' });
    }
    const whole = (await mine.auditLog(10_000)).map((r) => r.id).sort((a, b) => a - b);
    expect(new Set(seen).size, 'a row came twice').toBe(seen.length);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen).toEqual(whole);
    theirs.lock();
    await elsewhere.close();
  });
});

describe('held: a role creation never redefines a role of the same name at the desktop door', () => {
  it('base 0 for "helpdesk" or "Help desk" when "Helpdesk" exists is refused and the role keeps its permissions', async () => {
    const { session } = await newVault();
    await session.team.defineRole('Helpdesk', ['entries.view'], 0);
    expect(await codeOf(session.team.defineRole('helpdesk', ['entries.view', 'passwords.reveal'], 0))).toBe('CONFLICT');
    expect(await codeOf(session.team.defineRole('Help desk', ['entries.view', 'passwords.reveal'], 0))).not.toBe('ok');
    expect((await session.team.listRoles()).find((r) => r.name === 'Helpdesk')?.permissions).toEqual(['entries.view']);
    expect((await session.team.listRoles()).filter((r) => !r.builtIn)).toHaveLength(1);
  });
});
