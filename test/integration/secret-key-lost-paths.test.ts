/**
 * The paths where a desktop's person loses a group's secret key and keeps its list key, or gets it
 * back (review 13a hole 3, beyond the reviewer's cases in secret-key-lost.test.ts and
 * secret-key-lost-demoted.test.ts): each desktop converges at its next sync and never wedges.
 *  1. A technician with an edit made on their desktop and not sent, demoted to codes-only in a group
 *     set to server codes: the sync is ok, the edit is told in one line (not dropped unsaid), the
 *     entry stands as the owner's, and the next sync says nothing more.
 *  2. Promoted back to technician (the secret key wrapped again at the same version): the desktop
 *     computes the code itself again and reveals passwords.
 *  3. The setting turned off for a codes-only member: the secret key is given back, codes computed here.
 *  4. An auditor made a technician again (carol): syncs, reveals a password of her group.
 *  5. The same promotion taken in by an open vault (the app's sync, in-process): the secret key given
 *     at the same version is held at once, a password revealed without signing in again.
 * Real server on PGlite, real vault files, the CLI's `crewvault sync`. Must never print a key,
 * a code or a password.
 */
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import { totpCode, type OtpParams } from '../../shared/otp';
import { BOB, CAROL, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { freshTotp as totp, wrapIn } from '../support/group-wraps';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 4, 0, 0));
const desktops = useTeamDesktops('crewvault-secret-lost-paths', clock);
const { a, b, c, onDesktop, sync, teamClient } = desktops;

/** The sync's JSON report's `crossed` details (what it told in one line each). */
function toldOf(stdout: string): string[] {
  const line = stdout.trim().split('\n').pop() ?? '{}';
  const report = JSON.parse(line) as { crossed?: Array<{ detail: string }> };
  return (report.crossed ?? []).map((x) => x.detail);
}

async function setFirewallOtp(params: OtpParams): Promise<void> {
  clock.advance(1_000);
  await onDesktop(a, async (s) => {
    const fw = await s.resolvePath('Acme/Firewall');
    await s.updateEntry(fw.id, { otp: { params } }, fw.revision ?? -1);
  });
}

/** Firewall's code on `d`: whether it asked the server, and whether it computed `params`' code itself. */
async function firewallCode(d: Desktop, params: OtpParams): Promise<{ askedServer: boolean; computedHere: boolean }> {
  let askedServer = false;
  return onDesktop(d, async (s) => {
    try {
      const got = await s.otpCode((await s.resolvePath('Acme/Firewall')).id, undefined, 'view', async (vault, entry) => {
        askedServer = true;
        return (await teamClient(d)).call('codes', { vault, entry });
      });
      return { askedServer, computedHere: !askedServer && got.code === totpCode(params, clock.now()).code };
    } catch {
      return { askedServer, computedHere: false };
    }
  });
}

describe('every path where a desktop loses or regains a group\'s secret key converges (review 13a hole 3)', () => {
  let current = totp();

  it('1. a demotion crossing an unsent edit: synced, the edit told in one line, the owner\'s entry kept', async () => {
    const ops = desktops.opsId;
    expect((await sync(a)).code).toBe('ok');
    await onDesktop(a, async (s) => s.team.setServerCodes(ops, true, await s.team.groupRevision(ops)));
    await setFirewallOtp(current);
    expect((await sync(a)).code).toBe('ok');
    expect((await sync(b)).code).toBe('ok');
    // Bob edits Switch on his desktop and does not sync; the owner demotes him meanwhile.
    await desktops.setPassword(b, 'Acme/Switch', 'bob-unsent');
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'codes_only', await s.team.userRevision(BOB)));
    expect((await sync(a)).code).toBe('ok');

    const bobSync = await sync(b);
    expect(bobSync.code, bobSync.stderr).toBe('ok');
    const told = toldOf(bobSync.stdout);
    expect(told.filter((t) => t.includes('"Ops"') && t.includes('1 edit made here in it could not be sent'))).toHaveLength(1);
    expect(wrapIn(b.file, BOB, ops)).toEqual({ version: wrapIn(a.file, BOB, ops).version, secret: false });
    // The entry stands as the owner's on both sides (his edit is nowhere, and was said to be dropped).
    expect(await onDesktop(a, async (s) => s.revealPassword((await s.resolvePath('Acme/Switch')).id))).toBe('s-1');
    expect(await onDesktop(b, async (s) => (await s.resolvePath('Acme/Switch')).title)).toBe('Switch');
    const again = await sync(b);
    expect({ code: again.code, told: toldOf(again.stdout) }).toEqual({ code: 'ok', told: [] });
    expect(await firewallCode(b, current)).toEqual({ askedServer: true, computedHere: false });
  }, 180_000);

  it('2. promoted back to technician: the secret key at the same version, codes computed and passwords revealed here', async () => {
    const ops = desktops.opsId;
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'technician', await s.team.userRevision(BOB)));
    expect((await sync(a)).code).toBe('ok');
    const bobSync = await sync(b);
    expect(bobSync.code, bobSync.stderr).toBe('ok');
    expect(wrapIn(b.file, BOB, ops)).toEqual({ version: wrapIn(a.file, BOB, ops).version, secret: true });
    expect(await firewallCode(b, current)).toEqual({ askedServer: false, computedHere: true });
    expect(await onDesktop(b, async (s) => s.revealPassword((await s.resolvePath('Acme/Switch')).id))).toBe('s-1');
    // And his edits are taken again.
    await desktops.setPassword(b, 'Acme/Switch', 's-2');
    expect((await sync(b)).code).toBe('ok');
    expect((await sync(a)).code).toBe('ok');
    expect(await onDesktop(a, async (s) => s.revealPassword((await s.resolvePath('Acme/Switch')).id))).toBe('s-2');
  }, 180_000);

  it('3. the setting turned off for a codes-only member: the secret key given back, codes computed here', async () => {
    const ops = desktops.opsId;
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'codes_only', await s.team.userRevision(BOB)));
    expect((await sync(a)).code).toBe('ok');
    expect((await sync(b)).code).toBe('ok');
    current = totp();
    await setFirewallOtp(current);
    expect((await sync(a)).code).toBe('ok');
    expect((await sync(b)).code).toBe('ok');
    expect(await firewallCode(b, current)).toEqual({ askedServer: true, computedHere: false });
    await onDesktop(a, async (s) => s.team.setServerCodes(ops, false, await s.team.groupRevision(ops)));
    expect((await sync(a)).code).toBe('ok');
    const bobSync = await sync(b);
    expect(bobSync.code, bobSync.stderr).toBe('ok');
    expect(wrapIn(b.file, BOB, ops).secret).toBe(true);
    expect(await firewallCode(b, current)).toEqual({ askedServer: false, computedHere: true });
  }, 180_000);

  it('4. an auditor made a technician again: syncs and reveals a password of her group', async () => {
    await onDesktop(a, async (s) => s.team.changeRole(CAROL, 'auditor', await s.team.userRevision(CAROL)));
    expect((await sync(a)).code).toBe('ok');
    expect((await sync(c)).code).toBe('ok');
    await onDesktop(a, async (s) => s.team.changeRole(CAROL, 'technician', await s.team.userRevision(CAROL)));
    expect((await sync(a)).code).toBe('ok');
    const carolSync = await sync(c);
    expect(carolSync.code, carolSync.stderr).toBe('ok');
    expect(await onDesktop(c, async (s) => s.revealPassword((await s.resolvePath('Acme/Printer')).id))).toBe('p-1');
    expect((await sync(c)).code).toBe('ok');
  }, 180_000);

  it('5. an open vault taking in a promotion at the same version holds the secret key at once', async () => {
    await onDesktop(a, async (s) => s.team.changeRole(CAROL, 'auditor', await s.team.userRevision(CAROL)));
    expect((await sync(a)).code).toBe('ok');
    expect((await sync(c)).code).toBe('ok');
    await onDesktop(a, async (s) => s.team.changeRole(CAROL, 'technician', await s.team.userRevision(CAROL)));
    expect((await sync(a)).code).toBe('ok');
    const { client } = await keptSession(serverPlace(c.env), new URL(desktops.server.url).origin, () => clock.now());
    const revealed = await onDesktop(c, async (s) => {
      const outcome = await syncOnce(client, s.replica);
      expect(outcome.held).toBe(0);
      try {
        return await s.revealPassword((await s.resolvePath('Acme/Printer')).id);
      } catch (error) {
        return (error as { code?: string }).code ?? 'failed';
      }
    });
    expect(revealed).toBe('p-1');
  }, 180_000);
});
