/**
 * `crewvault sync` hands the team server the TOTP keys of groups set to "server computes codes", as the app's sync does
 * (electron/team/desk.ts, server-codes.ts handOverServerCodes): before, only the app did, so a vault moved by the CLI
 * left its codes-only members without codes, and after `crewvault group rotate` in such a group they met CONFLICT (a
 * seal at the old key version) until someone's app synced. The owner's vault (a real vault file) moved, its group's key
 * changed and synced, all through the CLI against a real team server (PGlite) on loopback, its session in a private
 * Secret Service. Must never put a password or a TOTP key in a process argument or in output.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createVault } from '../../electron/vault/vault';
import { int, text } from '../../server/store/db';
import { parseOtpUri } from '../../shared/otp';
import { useOneDesktopServer } from '../support/one-desktop-server';
import { runScripted } from '../support/scripted-cli';
import { groupUidIn } from '../support/team-desktops';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';

/** RFC 6238's test key, base32. */
const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const clock = manualClock(Date.UTC(2026, 11, 14, 9, 0, 0));
const world = useOneDesktopServer('crewvault-cli-sync-server-codes', clock);

/** The group's key version on the server, and the key versions its TOTP keys are sealed at there. */
async function onServer(group: string): Promise<{ version: number; sealedAt: number[] }> {
  const [row] = await world.server.database.query('SELECT vault_id, key_version FROM sync_groups WHERE group_id = $1', [group]);
  if (row === undefined) return { version: 0, sealedAt: [] };
  const seals = await world.server.database.query('SELECT key_version FROM server_code_keys WHERE vault_id = $1 AND group_id = $2 ORDER BY entry_id', [text(row, 'vault_id'), group]);
  return { version: int(row, 'key_version'), sealedAt: seals.map((s) => int(s, 'key_version')) };
}

describe('crewvault sync in a vault with a group whose codes the server computes', () => {
  it('hands the server its TOTP keys at the move, and again at the new key version after group rotate', async () => {
    const file = path.join(world.home, 'owner.crewvault');
    const created = await createVault(file, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
    const ops = await created.team.createGroup('Ops');
    await created.team.setServerCodes(ops.id, true, await created.team.groupRevision(ops.id));
    await created.createEntries([
      { customer: 'Acme', title: 'Mail', password: 'm-1', groupId: ops.id, otp: { params: parseOtpUri(`otpauth://totp/Acme:ops?secret=${SECRET}`).params } },
      { customer: 'Acme', title: 'Switch', password: 's-1', groupId: ops.id },
      { customer: 'Acme', title: 'Portal', password: 'p-1', otp: { params: parseOtpUri(`otpauth://totp/Acme:portal?secret=${SECRET}`).params } },
    ]);
    await created.close();
    const group = groupUidIn(file, ops.id);
    const cli = async (args: readonly string[], answers: readonly string[]): Promise<string> => {
      const out = await runScripted(args, answers, clock, world.env);
      expect(out.code, out.stderr).toBe('ok');
      expect(`${out.stdout}${out.stderr}`).not.toContain(SECRET);
      return out.stdout;
    };

    await world.ownerLogin();
    const moved = await cli(['sync', world.server.url, '--move', '--vault', file, '--user', OWNER], [PASSWORD]);
    const v = (await onServer(group)).version;
    // The one TOTP key of Ops (not the entry without one, not the default group's) sealed at the group's version.
    expect(await onServer(group)).toEqual({ version: v, sealedAt: [v] });
    expect(moved).toContain('crewvault: Codes computed by the server: 1 TOTP key sealed to the server\'s code key (groups set to "server computes codes").');

    await cli(['group', 'rotate', 'Ops', '--vault', file, '--user', OWNER], [PASSWORD]);
    await cli(['sync', world.server.url, '--vault', file, '--user', OWNER], [PASSWORD]);
    expect(await onServer(group)).toEqual({ version: v + 1, sealedAt: [v + 1] });

    // A run with nothing changed hands nothing (the server holds the key as it is): before, each run sealed every key
    // again, and the server opened, wrote and audited each.
    const sealedAudited = async (): Promise<number> => (await world.server.database.query("SELECT count(*)::int AS n FROM server_audit WHERE kind = 'codes.key-sealed'")).map((r) => int(r, 'n'))[0] ?? 0;
    const audited = await sealedAudited();
    expect(await cli(['sync', world.server.url, '--vault', file, '--user', OWNER], [PASSWORD])).not.toContain('Codes computed by the server');
    expect(await sealedAudited()).toBe(audited);
    // A seal the server no longer holds (dropped by a change this desktop never saw: the entry moved out and back
    // elsewhere) is handed again at the next run.
    await world.server.database.query('DELETE FROM server_code_keys WHERE group_id = $1', [group]);
    expect(await cli(['sync', world.server.url, '--vault', file, '--user', OWNER], [PASSWORD])).toContain('1 TOTP key sealed');
    expect(await onServer(group)).toEqual({ version: v + 1, sealedAt: [v + 1] });
    // A new key there is handed; the one the server holds as it is, not.
    await cli(['add', '--customer', 'Acme', '--title', 'Mail 2', '--group', 'Ops', '--otp', '-', '--vault', file, '--user', OWNER], [PASSWORD, `otpauth://totp/Acme:mail2?secret=${SECRET}`]);
    expect(await cli(['sync', world.server.url, '--vault', file, '--user', OWNER], [PASSWORD])).toContain('1 TOTP key sealed');
    expect(await onServer(group)).toEqual({ version: v + 1, sealedAt: [v + 1, v + 1] });
    expect(await sealedAudited()).toBe(audited + 2);
  }, 120_000);
});
