/**
 * Review round thirteen (a), hole 3 (class: a desktop taking in a rotation that wraps its person the
 * list key but no longer the secret key, while it held the secret key before, cannot take it in, at
 * any sync, for good). replica-people-in.ts rotateIn reads `old.secret` as "may re-seal here", and
 * resealEntry's sealDetails under the new key (no secret part) throws FORBIDDEN "Your role holds no
 * key to this entry's secrets"; the pull rolls back whole. The desktop then keeps the vault as it
 * stood (the old key versions, its person's old role in the file) and takes nothing more from anyone.
 * Every path where someone keeps a group's list key and loses its secret key does it:
 *  1. the feature's own first step: an owner turns "server computes codes" on for a group that
 *     already has a codes-only member (who, in a group without the setting, holds the secret key);
 *  2. a technician demoted to codes-only in a group set so;
 *  3. a technician demoted to auditor (any group).
 * Expected: each such desktop syncs ok, holds the group at its new version without the secret key,
 * and (case 1 and 2) asks the server for the code of a key set after the change instead of
 * computing it. Real server on PGlite, real vault files, the CLI's `crewvault sync`.
 * Must never print a key or a code.
 */
import { describe, expect, it } from 'vitest';
import { totpCode, type OtpParams } from '../../shared/otp';
import { BOB, CAROL, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { freshTotp as totp, wrapIn } from '../support/group-wraps';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 3, 0, 0));
const desktops = useTeamDesktops('crewvault-r13a-loses-secret', clock);
const { a, b, c, onDesktop, sync, teamClient } = desktops;

async function setFirewallOtp(params: OtpParams): Promise<void> {
  clock.advance(1_000);
  await onDesktop(a, async (s) => {
    const fw = await s.resolvePath('Acme/Firewall');
    await s.updateEntry(fw.id, { otp: { params } }, fw.revision ?? -1);
  });
}

/** Firewall's code on `d`, with where it came from: computed on the desktop, or asked of the server (whatever it answered). */
async function firewallCode(d: Desktop): Promise<{ code?: string; askedServer: boolean }> {
  let askedServer = false;
  return onDesktop(d, async (s) => {
    try {
      const got = await s.otpCode((await s.resolvePath('Acme/Firewall')).id, undefined, 'view', async (vault, entry) => {
        askedServer = true;
        return (await teamClient(d)).call('codes', { vault, entry });
      });
      return { code: got.code, askedServer };
    } catch {
      return { askedServer };
    }
  });
}

describe('a desktop whose person keeps a group\'s list key and loses its secret key (review 13a hole 3)', () => {
  it('1. takes in "server computes codes" turned on while its person is codes-only in the group', async () => {
    const ops = desktops.opsId;
    expect((await sync(a)).code).toBe('ok');
    // Bob codes-only in Ops while it is end-to-end: his role sees codes, so he holds the secret key (by design).
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'codes_only', await s.team.userRevision(BOB)));
    const first = totp();
    await setFirewallOtp(first);
    expect((await sync(a)).code).toBe('ok');
    expect((await sync(b)).code).toBe('ok');
    expect(wrapIn(b.file, BOB, ops).secret).toBe(true);
    expect(await firewallCode(b)).toEqual({ code: totpCode(first, clock.now()).code, askedServer: false });

    // The owner turns the setting on (Ops rotated; bob wrapped the list key only), then gives Firewall a new key.
    await onDesktop(a, async (s) => s.team.setServerCodes(ops, true, await s.team.groupRevision(ops)));
    expect((await sync(a)).code).toBe('ok');
    const second = totp();
    await setFirewallOtp(second);
    expect((await sync(a)).code).toBe('ok');

    const bobSync = await sync(b);
    expect(bobSync.code, bobSync.stderr).toBe('ok');
    expect(wrapIn(b.file, BOB, ops)).toEqual({ version: wrapIn(a.file, BOB, ops).version, secret: false });
    const after = await firewallCode(b);
    // Asked the server, which computes it: the owner's `crewvault sync` handed it the new key, sealed to its code key.
    expect({ askedServer: after.askedServer, serverCode: after.code === totpCode(second, clock.now()).code }).toEqual({ askedServer: true, serverCode: true });
  }, 180_000);

  it('3. takes in a demotion to auditor (carol, a technician in the default group)', async () => {
    await onDesktop(a, async (s) => s.team.changeRole(CAROL, 'auditor', await s.team.userRevision(CAROL)));
    expect((await sync(a)).code).toBe('ok');
    const carolSync = await sync(c);
    expect(carolSync.code, carolSync.stderr).toBe('ok');
  }, 120_000);
});
