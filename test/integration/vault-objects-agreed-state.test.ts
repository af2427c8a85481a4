/**
 * Kept from review round twelve (a) (hole 2, fixed: replica-vault-objects.ts agreedPolicy, and
 * sync.ts pushInParts going on past a refused objects part).
 * Review round twelve (a), hole 2: a desktop judges an admin's MFA policy record by the owner
 * role's level in ITS OWN file (replica-vault-objects.ts takePolicy: levelFor(local)), not by the
 * level last agreed with the team. The server lets an admin send a policy only with the owner
 * level it holds, so every admin record the server stores carries the owner's current level; a
 * desktop whose file is behind (it missed the owner's record: a snapshot or pull hands only the
 * latest version) or ahead (the owner's own unsent change) sets the admin's record aside as
 * VAULT_TAMPERED. Behind: a tightening (technicians 'required') never reaches that desktop, its person
 * signs in without two-step. Ahead: the owner's desktop can never take the team's policy again,
 * and every sync of it ends CONFLICT before its people and entries parts are pushed (sync.ts
 * pushInParts stops at the refused objects part): the owner's entry edit never reaches the team.
 * Real server on PGlite, real vault files, the CLI's sync.
 * Must never put a password in a process argument (answers go on the scripted stdin).
 */
import { describe, expect, it } from 'vitest';
import { mustSetUpAuthenticator } from '../../electron/vault/sign-in-flow';
import { BOB, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 9, 0, 0));
const team = useTeamDesktops('crewvault-r12a-h2', clock);
const { a, b, c, onDesktop, sync } = team;

const ok = async (d: typeof a): Promise<string> => {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
  return out.stdout;
};

describe('review 12a hole 2: an admin\'s policy judged against the file, not the agreed policy', () => {
  it('a desktop that missed the owner\'s owner-level record still takes an admin\'s later tightening', async () => {
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'admin', await s.team.userRevision(BOB)));
    await ok(a);
    await ok(b);
    // The owner sets the owner role's own level (theirs alone: 'optional', said outright), and sends it.
    await onDesktop(a, async (s) => s.mfa.setPolicy('optional', 'owner', (await s.mfa.policy()).revision));
    await ok(a);
    // The admin takes it in, then requires two-step of technicians (the owner's level as the server holds it).
    await ok(b);
    await onDesktop(b, async (s) => s.mfa.setPolicy('required', 'technician', (await s.mfa.policy()).revision));
    await ok(b);
    // Carol's desktop, last synced before both, meets only the admin's record (the latest of the policy).
    const out = await sync(c);
    const seen = await onDesktop(c, async (s) => ({ policy: await s.mfa.policy(), enrol: await mustSetUpAuthenticator(s) }));
    expect({ code: out.code, stdout: out.stdout.slice(0, 600), technician: seen.policy.roles['technician'], enrol: seen.enrol }).toMatchObject({ code: 'ok', technician: 'required', enrol: true });
  });

  it('the owner\'s own unsent change of the owner level does not make the admin\'s crossing record "tampered" for good', async () => {
    // The owner loosens the owner level here (theirs to set) and has not sent it; the admin meanwhile tightens team leads.
    await onDesktop(a, async (s) => s.mfa.setPolicy('off', 'owner', (await s.mfa.policy()).revision));
    await onDesktop(b, async (s) => s.mfa.setPolicy('required', 'team lead', (await s.mfa.policy()).revision));
    await ok(b);
    // The owner also changes an entry: it goes in the push's entries part, after the policy's part.
    await team.setPassword(a, 'Acme/Printer', 'p-after-policy');
    const first = await sync(a);
    const second = await sync(a);
    const policyOnA = await onDesktop(a, async (s) => s.mfa.policy());
    await ok(b);
    const printerOnB = await onDesktop(b, async (s) => s.revealPassword((await s.resolvePath('Acme/Printer')).id));
    // Held: the admin's record taken (its owner level was the agreed one), A's owner-level change sent after it
    // or told as crossed, and in any case the owner's entry edit reaches the team.
    expect({ first: `${first.code} ${first.stderr.slice(0, 300)}`, second: `${second.code} ${second.stderr.slice(0, 300)}`, teamLead: policyOnA.roles['team_lead'], printerOnB })
      .toEqual({ first: 'ok ', second: 'ok ', teamLead: 'required', printerOnB: 'p-after-policy' });
  });
});
