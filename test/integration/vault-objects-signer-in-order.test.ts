/**
 * Kept from review round twelve (a) (hole 5, fixed: replica-vault-objects.ts signerRoleAt), with
 * cases of the class: a role, settings or MFA policy record is judged by its signer's role where it
 * stands in the server's order, not as they are on the receiving desktop now; and a record set
 * aside here wedges only its own object, never the desktop's other pushes (sync.ts pushInParts).
 * Review round twelve (a), hole 5: a role, settings or MFA policy record is judged by its signer's
 * role and state on the receiving desktop NOW (replica-vault-objects.ts takeVaultObject:
 * signerOf + whyNotManageVault), not when the server stored it. An admin changes the settings and
 * syncs; the owner, whose desktop has not pulled yet, demotes that admin and syncs: the pull meets
 * the admin's record (stored while they were admin, the team's settings now) signed by someone who
 * is a technician here, and sets it aside as VAULT_TAMPERED, for good. That desktop then keeps
 * other settings than the team's, and its next settings change meets CONFLICT at every sync: the
 * objects part is refused first and sync.ts pushInParts stops there, so the owner's entry edit in
 * the same sync never reaches the team either. The owner's second desktop (a2, behind since the
 * admin was made one) sets it aside too: a pull takes vault objects BEFORE its people records
 * (takeVaultObjects first), so the admin's promotion in that same pull had not been taken when his
 * settings were judged, and by the retry his demotion had.
 * Real server on PGlite, real vault files, the CLI's sync.
 * Must never put a password in a process argument (answers go on the scripted stdin).
 */
import { describe, expect, it } from 'vitest';
import { BOB, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 9, 0, 0));
const team = useTeamDesktops('crewvault-r12a-h5', clock);
const { a, a2, b, c, onDesktop, sync } = team;

const ok = async (d: typeof a): Promise<void> => {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
};

describe('review 12a hole 5: a vault object judged by its signer as they are now', () => {
  it('the owner who demotes an admin right after the admin changed the settings still takes them, and can change them again', async () => {
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'admin', await s.team.userRevision(BOB)));
    await ok(a);
    await ok(b);
    // The admin changes the settings; the server stores them (he is an admin).
    await onDesktop(b, async (s) => s.vaultSettings.update({ idleLockMinutes: 7 }, (await s.vaultSettings.read()).revision));
    await ok(b);
    // The owner, not yet pulled, demotes him, then syncs.
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'technician', await s.team.userRevision(BOB)));
    const demoting = await sync(a);
    const idleOnA = await onDesktop(a, async (s) => (await s.vaultSettings.read()).idleLockMinutes);
    // Another desktop of the owner's, behind since before bob was made admin, pulls promotion, settings and demotion.
    await ok(a2);
    const idleOnA2 = await onDesktop(a2, async (s) => (await s.vaultSettings.read()).idleLockMinutes);
    // The owner changes the settings and an entry on A, and syncs twice.
    await onDesktop(a, async (s) => s.vaultSettings.update({ clipboardClearSeconds: 40 }, (await s.vaultSettings.read()).revision));
    await team.setPassword(a, 'Acme/Printer', 'p-after-demotion');
    const next = await sync(a);
    const again = await sync(a);
    await ok(a2);
    const printerOnA2 = await onDesktop(a2, async (s) => s.revealPassword((await s.resolvePath('Acme/Printer')).id));
    expect({
      demoting: `${demoting.code}`, idleOnA, idleOnA2, next: `${next.code} ${next.stderr.slice(0, 240)}`, again: `${again.code} ${again.stderr.slice(0, 240)}`, printerOnA2,
    }).toEqual({ demoting: 'ok', idleOnA: 7, idleOnA2: 7, next: 'ok ', again: 'ok ', printerOnA2: 'p-after-demotion' });
  });

  it('a role record whose signer was promoted and demoted between two of a desktop\'s syncs is taken: the promotion is never handed, only the newest user record', async () => {
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'admin', await s.team.userRevision(BOB)));
    await ok(a);
    await ok(b);
    await onDesktop(b, async (s) => s.team.defineRole('Helpdesk', ['entries.view', 'otp.view'], 0));
    await ok(b);
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'technician', await s.team.userRevision(BOB)));
    await ok(a);
    // Carol's desktop, last synced before all of it: one pull brings bob's role record and, after it, his newest user record (a technician).
    const out = await sync(c);
    const helpdesk = await onDesktop(c, async (s) => (await s.team.listRoles()).find((r) => r.name === 'Helpdesk')?.permissions);
    expect({ code: `${out.code} ${out.stderr.slice(0, 240)}`, helpdesk }).toEqual({ code: 'ok ', helpdesk: ['entries.view', 'otp.view'] });
  });

  it('a settings record set aside here wedges only the settings: the entry edit of the same sync reaches the team', async () => {
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'admin', await s.team.userRevision(BOB)));
    await ok(a);
    await ok(b);
    await onDesktop(b, async (s) => s.vaultSettings.update({ idleLockMinutes: 9 }, (await s.vaultSettings.read()).revision));
    await ok(b);
    // The owner, not pulled yet, disables bob (a record from someone disabled here is set aside), changes the
    // settings (its record now meets the server's newer one: CONFLICT, and the server's is set aside here) and an entry.
    await onDesktop(a, async (s) => s.team.disableUser(BOB, await s.team.userRevision(BOB)));
    await onDesktop(a, async (s) => s.vaultSettings.update({ clipboardClearSeconds: 50 }, (await s.vaultSettings.read()).revision));
    await team.setPassword(a, 'Acme/Printer', 'p-beside-a-stuck-setting');
    const wedged = await sync(a);
    await ok(c);
    const printerOnC = await onDesktop(c, async (s) => s.revealPassword((await s.resolvePath('Acme/Printer')).id));
    expect(printerOnC, `A's sync: ${wedged.code} ${wedged.stderr.slice(0, 300)}`).toBe('p-beside-a-stuck-setting');
  });
});
