/**
 * Kept from review round twelve (a) (hole 3, fixed: sync.ts takeVaultObjectsOwed), with a case of
 * the class: a cursor that moved past role, settings and policy records never handed is caught up
 * once, from the sequence the file's pulls last named those kinds up to.
 * Review round twelve (a), hole 3: the `kinds` gate hides role, settings and MFA policy records
 * from a desktop from before task 15, and its pull cursor moves past them all the same. Once that
 * desktop is updated, it pulls from its cursor: it never learns a policy, setting or custom role
 * the team stored while it was old (until someone changes that object again). Here carol's desktop
 * pulls as an old desktop does (syncPull naming no kinds, the pages applied and the cursor moved
 * as sync.ts does), the owner meanwhile requiring two-step of technicians; then carol's desktop,
 * updated, syncs with this release's CLI: she is still not asked to set up an authenticator.
 * Real server on PGlite, real vault files, the CLI's sync.
 * Must never put a password in a process argument (answers go on the scripted stdin).
 */
import { describe, expect, it } from 'vitest';
import { mustSetUpAuthenticator } from '../../electron/vault/sign-in-flow';
import { useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 9, 0, 0));
const team = useTeamDesktops('crewvault-r12a-h3', clock);
const { a, c, onDesktop, sync, teamClient } = team;

/** Carol's desktop pulls as one from before task 15 does: naming no kinds; pages taken in, cursor moved (as sync.ts does). */
async function pullAsOldDesktop(): Promise<void> {
  const client = await teamClient(c);
  await onDesktop(c, async (s) => {
    const vault = await s.replica.vaultId();
    for (;;) {
      const since = await s.replica.pulledUpTo();
      const page = await client.call('syncPull', { vault, since });
      if (page.records.length > 0) await s.replica.applyPulled(vault, page.records.map((r) => r.record), { pulledUpTo: page.upTo, hold: true, caughtUp: !page.more }, page.batches);
      if (!page.more) break;
    }
  });
}

describe('review 12a hole 3: a desktop updated after the team\'s policy changed', () => {
  it('an old desktop updated after two policy changes, pulling between them, takes the newer', async () => {
    await onDesktop(a, async (s) => s.mfa.setPolicy('required', 'team lead', (await s.mfa.policy()).revision));
    expect((await sync(a)).code).toBe('ok');
    await pullAsOldDesktop();
    await onDesktop(a, async (s) => s.mfa.setPolicy('optional', 'team lead', (await s.mfa.policy()).revision));
    expect((await sync(a)).code).toBe('ok');
    await pullAsOldDesktop();
    const before = await onDesktop(c, async (s) => (await s.mfa.policy()).roles['team_lead']);
    const out = await sync(c);
    const after = await onDesktop(c, async (s) => (await s.mfa.policy()).roles['team_lead']);
    expect({ before, code: `${out.code} ${out.stderr.slice(0, 240)}`, after }).toEqual({ before: undefined, code: 'ok ', after: 'optional' });
  });

  it('learns the MFA policy, settings and roles stored while it was old', async () => {
    await onDesktop(a, async (s) => {
      await s.mfa.setPolicy('required', 'technician', (await s.mfa.policy()).revision);
      await s.vaultSettings.update({ idleLockMinutes: 2 }, (await s.vaultSettings.read()).revision);
      await s.team.defineRole('Helpdesk', ['entries.view', 'otp.view'], 0);
    });
    const pushed = await sync(a);
    expect(pushed.code, pushed.stderr).toBe('ok');

    // Carol's desktop as it was before task 15: its pulls name no kinds; pages taken in, cursor moved.
    await pullAsOldDesktop();

    // Updated: this release's sync.
    const out = await sync(c);
    expect(out.code, out.stderr).toBe('ok');
    const seen = await onDesktop(c, async (s) => ({
      technician: (await s.mfa.policy()).roles['technician'],
      idle: (await s.vaultSettings.read()).idleLockMinutes,
      helpdesk: (await s.team.listRoles()).some((r) => r.name === 'Helpdesk'),
      enrol: await mustSetUpAuthenticator(s),
    }));
    expect(seen).toEqual({ technician: 'required', idle: 2, helpdesk: true, enrol: true });
  });

});
