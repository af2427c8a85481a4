/**
 * An owner takes an admin's `mfa_reset` back while the admin's act that needs it is under way, on
 * PostgreSQL over real HTTP. Each act that gets someone past another person's second step (a
 * reset, an emergency code, their e-mail or phone set, their external mark taken off) checked the
 * grant before its transaction only: an act already past that check completed after the
 * take-back had committed. Here the take-back (the store's own delete) is held open until the act
 * waits on it or has answered, then committed: the act must be refused and leave nothing behind.
 * PostgreSQL only: PGlite runs one transaction at a time, so the act could not even start its own
 * while the take-back's is open.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteGrant } from '../../server/store/admin-grants';
import { int } from '../../server/store/db';
import { useTestDatabases } from './databases';
import { sentWhileHeld } from './held-transaction';
import { invitePerson, registerOwner, startTestServer, type Person, type TestServer } from './support';

const databases = useTestDatabases();

interface Act {
  readonly name: string;
  /** The audit kind the act writes. */
  readonly kind: string;
  /** Puts the member where the act has something to do. */
  readonly before?: (admin: Person, member: Person) => Promise<void>;
  /** Sends it as the admin: 'ok' or the error code. */
  readonly send: (admin: Person, member: Person) => Promise<string>;
}

const outcome = (reply: { ok: true } | { ok: false; error: { code: string } }): string => (reply.ok ? 'ok' : reply.error.code);

const ACTS: readonly Act[] = [
  { name: 'a reset', kind: 'mfa.reset', send: async (admin, member) => outcome(await admin.client.call('adminMfaReset', { userId: member.user.id })) },
  { name: 'an emergency code', kind: 'mfa.emergency-issued', send: async (admin, member) => outcome(await admin.client.call('mfaEmergencyIssue', { userId: member.user.id })) },
  { name: 'their e-mail set', kind: 'contact.set', send: async (admin, member) => outcome(await admin.client.call('contactSet', { userId: member.user.id, email: 'admins-inbox@example.test', phone: null })) },
  {
    name: 'their external mark taken off',
    kind: 'user.external-set',
    before: async (admin, member) => {
      await admin.client.ok('adminUserExternal', { userId: member.user.id, external: true });
    },
    send: async (admin, member) => outcome(await admin.client.call('adminUserExternal', { userId: member.user.id, external: false })),
  },
];

describe('an owner taking mfa_reset back from an admin mid-act, on postgres', () => {
  let server: TestServer;
  let owner: Person;
  let admin: Person;
  let member: Person;
  beforeAll(async () => {
    server = await startTestServer(await databases.open('postgres'));
    owner = await registerOwner(server);
    admin = await invitePerson(server, owner, 'admin');
    member = await invitePerson(server, owner);
  }, 120_000);
  afterAll(async () => server?.close());

  /** The owner grants it after a fresh sign-in, and the admin signs in again (fresh proof for the act). */
  async function grant(): Promise<void> {
    await owner.client.login(owner.username, owner.password);
    await owner.client.ok('adminGrantSet', { userId: admin.user.id, permission: 'mfa_reset', granted: true });
    await admin.client.login(admin.username, admin.password);
  }

  async function acts(kind: string): Promise<number> {
    const [row] = await server.db.query('SELECT count(*)::int AS n FROM server_audit WHERE kind = $1 AND actor_id = $2 AND subject_id = $3', [kind, admin.user.id, member.user.id]);
    return row === undefined ? 0 : int(row, 'n');
  }

  it.each(ACTS)('$name: refused when the take-back commits while it waits, done when the grant stands', async (act) => {
    await grant();
    await act.before?.(admin, member);
    const before = await acts(act.kind);
    const reply = await sentWhileHeld(server.db, async (tx) => {
      expect(await deleteGrant(tx, admin.user.id, 'mfa_reset')).toBe(true);
    }, () => act.send(admin, member));
    expect(reply).toBe('FORBIDDEN');
    expect(await acts(act.kind)).toBe(before);
    // The same act with the grant standing is done: the refusal above was the take-back's.
    await grant();
    await act.before?.(admin, member);
    const granted = await acts(act.kind);
    expect(await act.send(admin, member)).toBe('ok');
    expect(await acts(act.kind)).toBe(granted + 1);
  });
});
