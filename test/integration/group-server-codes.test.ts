// "Server computes codes" on a group (#15) through the router over a real vault file: only owners
// and admins turn it on or off (a lead of the group, a technician and the codes-only member are
// refused, nothing changed); on, the group's keys are rotated and the secret key is wrapped for the
// technician but no longer for the codes-only member (the vault file read as stored: no wrapped
// secret key of theirs, at the new key version), nor for a codes-only person granted afterwards,
// and their desktop cannot open the entry's OTP key; the list still shows them the entry. Off, they
// hold it again. Audited each way. Never prints a password or a key.
import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditRecord, EntrySummary, GroupSummary } from '../../shared/model';
import { crewvault } from '../support/cli';
import { errorCode, newRouter, ok } from '../support/router';
import { OWNER, PASSWORD, tempFolder } from '../support/vault';
import { withBase } from '../support/base-revision';

const PEOPLE = [['adam', 'admin'], ['lena', 'team_lead'], ['tom', 'technician'], ['cody', 'codes_only'], ['cora', 'codes_only']] as const;
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

interface HeldKey {
  readonly user: string;
  readonly key_version: number;
  readonly secret: number;
}

/** Who holds group `id`'s keys in the vault file, as stored: the version and whether the secret key is wrapped for them. */
function holders(vaultPath: string, id: number): { version: number; keys: HeldKey[] } {
  const db = new Database(vaultPath, { readonly: true });
  try {
    const { key_version: version } = db.prepare('SELECT key_version FROM access_groups WHERE id = ?').get(id) as { key_version: number };
    const keys = db.prepare(`SELECT u.name AS user, gk.key_version, gk.wrapped_secret_key IS NOT NULL AS secret
      FROM group_keys gk JOIN users u ON u.id = gk.user_id WHERE gk.group_id = ? ORDER BY u.name`).all(id) as HeldKey[];
    return { version, keys };
  } finally {
    db.close();
  }
}

function holdsSecret(keys: readonly HeldKey[], user: string): boolean | undefined {
  const key = keys.find((k) => k.user === user);
  return key === undefined ? undefined : key.secret === 1;
}

async function team() {
  const setup = newRouter();
  const { router } = setup;
  ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
  for (const [username, role] of PEOPLE) ok(await router.call('users.create', { username, role, password: `${username} one-time` }));
  for (const [name] of PEOPLE) {
    ok(await router.call('session.signIn', { username: name, password: `${name} one-time` }));
    ok(await router.call('session.changePassword', { current: `${name} one-time`, next: `${name} password` }));
  }
  const as = async (name: string): Promise<void> => {
    ok(await router.call('session.signIn', { username: name, password: name === OWNER ? PASSWORD : `${name} password` }));
  };
  await as('lena');
  const night = ok(await router.call('groups.create', { name: 'Night shift' })) as GroupSummary;
  ok(await router.call('groups.grant', await withBase(router, 'groups.grant', { id: night.id, username: 'tom' })));
  ok(await router.call('groups.grant', await withBase(router, 'groups.grant', { id: night.id, username: 'cody' })));
  const entry = ok(await router.call('entries.create', { customer: 'Acme', title: 'Firewall', password: 'fw-123', groupId: night.id, otp: { secret: SECRET } })) as EntrySummary;
  return { ...setup, as, id: night.id, entry: entry.id };
}

describe('a group set to "server computes codes"', () => {
  it('is set by owners and admins only; anyone else is refused and nothing changes', async () => {
    for (const [who, allowed] of [['lena', false], ['tom', false], ['cody', false], ['adam', true], [OWNER, true]] as const) {
      const { router, as, id, vaultPath } = await team();
      const before = holders(vaultPath, id);
      await as(who);
      const reply = await router.call('groups.setServerCodes', await withBase(router, 'groups.setServerCodes', { id, on: true }));
      if (allowed) expect(ok(reply), who).toMatchObject({ id, name: 'Night shift', serverCodes: true });
      else {
        expect(errorCode(reply), who).toBe('FORBIDDEN');
        expect(holders(vaultPath, id), who).toEqual(before);
      }
    }
  });

  it('takes the group\'s secret key from codes-only members (rotated), gives it back when turned off, audited each way', async () => {
    const { router, as, id, vaultPath, entry } = await team();
    const before = holders(vaultPath, id);
    expect(holdsSecret(before.keys, 'cody')).toBe(true);
    await as('cody');
    expect(ok(await router.call('otp.code', { id: entry }))).toMatchObject({ code: expect.stringMatching(/^\d{6}$/) as unknown });

    await as(OWNER);
    expect(ok(await router.call('groups.setServerCodes', await withBase(router, 'groups.setServerCodes', { id, on: true })))).toMatchObject({ serverCodes: true });
    ok(await router.call('groups.grant', await withBase(router, 'groups.grant', { id, username: 'cora' })));
    const on = holders(vaultPath, id);
    expect(on.version).toBe(before.version + 1);
    for (const key of on.keys) expect(key.key_version, key.user).toBe(on.version);
    expect(holdsSecret(on.keys, 'tom')).toBe(true);
    expect(holdsSecret(on.keys, 'lena')).toBe(true);
    expect(holdsSecret(on.keys, 'cody')).toBe(false);
    expect(holdsSecret(on.keys, 'cora')).toBe(false);
    // Still a member: the entry is listed for them; its OTP key does not open on their desktop.
    await as('cody');
    expect(ok(await router.call('entries.get', { id: entry }))).toMatchObject({ id: entry, title: 'Firewall' });
    // Its code comes from the team server, which this desktop is not signed in to.
    expect(errorCode(await router.call('otp.code', { id: entry }))).toBe('NOT_FOUND');
    await as('tom');
    expect(ok(await router.call('otp.code', { id: entry }))).toMatchObject({ code: expect.stringMatching(/^\d{6}$/) as unknown });

    await as('adam');
    expect(ok(await router.call('groups.setServerCodes', await withBase(router, 'groups.setServerCodes', { id, on: false })))).toMatchObject({ serverCodes: false });
    const off = holders(vaultPath, id);
    expect(holdsSecret(off.keys, 'cody')).toBe(true);
    expect(holdsSecret(off.keys, 'cora')).toBe(true);
    await as('cody');
    expect(ok(await router.call('otp.code', { id: entry }))).toMatchObject({ code: expect.stringMatching(/^\d{6}$/) as unknown });

    await as(OWNER);
    const audit = ok(await router.call('audit.list', {})) as AuditRecord[];
    expect(audit.filter((a) => a.action.startsWith('group.server_codes')).map((a) => [a.action, a.actor])).toEqual(
      expect.arrayContaining([['group.server_codes_on', OWNER], ['group.server_codes_off', 'adam']]),
    );
  });
});

describe('crewvault group set --server-codes', () => {
  const ALICE = 'alice pass 123';

  it('turns it on and off by name, says what the server can then see, and refuses anything but on or off', () => {
    const vault = path.join(tempFolder(), 'team.crewvault');
    const run = (...args: string[]) => {
      const [command = '', ...rest] = args;
      return crewvault([command, '--vault', vault, '--as', 'alice', ...rest], { input: `${ALICE}\n` });
    };
    expect(crewvault(['init', '--vault', vault, '--user', 'alice', '--kdf-memory', '1024', '--kdf-iterations', '1'], { input: `${ALICE}\n` }).status).toBe(0);
    expect(run('group', 'add', 'Night shift').status).toBe(0);
    const on = run('group', 'set', 'night SHIFT', '--server-codes', 'on');
    expect(on.status).toBe(0);
    expect(on.stdout).toContain('The team server now computes the TOTP codes of Night shift');
    expect(on.stdout).toContain('Groups without this setting stay end-to-end encrypted');
    expect(run('group', 'list').stdout).toMatch(/Night shift\t.*\(server computes codes\)/);
    expect(run('group', 'set', 'Night shift', '--server-codes', 'maybe')).toMatchObject({ status: 2 });
    expect(run('group', 'set', 'Night shift', '--server-codes', 'off')).toMatchObject({ status: 0, stdout: expect.stringContaining('end-to-end encrypted again') as unknown });
    expect(run('group', 'list').stdout).not.toContain('server computes codes');
  });
});
