// Team leads managing a group through the router over a real vault (#11): members are picked
// from the people who could join (a lead cannot list users otherwise), leads are promoted and
// demoted, groups renamed; and a group always keeps a lead: its last lead is neither demoted nor
// removed, by a lead or by an owner — the vault refuses it, whatever the screen offers.
import { describe, expect, it } from 'vitest';
import type { GroupSummary, MemberView, UserView } from '../../shared/model';
import { errorCode, newRouter, ok } from '../support/router';
import { OWNER, PASSWORD } from '../support/vault';
import { withBase } from '../support/base-revision';

async function team() {
  const setup = newRouter();
  const { router } = setup;
  ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
  for (const [username, role] of [['lena', 'team_lead'], ['luke', 'team_lead'], ['tom', 'technician'], ['tess', 'technician']] as const) {
    ok(await router.call('users.create', { username, role, password: `${username} one-time` }));
  }
  for (const name of ['lena', 'luke', 'tom', 'tess']) {
    ok(await router.call('session.signIn', { username: name, password: `${name} one-time` }));
    ok(await router.call('session.changePassword', { current: `${name} one-time`, next: `${name} password` }));
  }
  const as = async (name: string): Promise<void> => {
    ok(await router.call('session.signIn', { username: name, password: name === OWNER ? PASSWORD : `${name} password` }));
  };
  await as('lena');
  const group = ok(await router.call('groups.create', { name: 'Night shift' })) as GroupSummary;
  return { ...setup, as, id: group.id };
}

const leadsOf = (members: MemberView[]): string[] => members.filter((m) => m.lead).map((m) => m.name).sort();

describe('a team lead managing a group', () => {
  it('adds members picked from those who could join, not typed from memory', async () => {
    const { router, id } = await team();
    const names = (ok(await router.call('groups.candidates', { id })) as UserView[]).map((u) => u.name);
    // Not lena herself, not the owner (who holds every group's key already).
    expect(names).toEqual(['luke', 'tess', 'tom']);
    ok(await router.call('groups.grant', await withBase(router, 'groups.grant', { id, username: 'tom' })));
    expect((ok(await router.call('groups.candidates', { id })) as UserView[]).map((u) => u.name)).toEqual(['luke', 'tess']);
    // The list is all a lead sees of the users: the users screen stays an admin's.
    expect(errorCode(await router.call('users.list', {}))).toBe('FORBIDDEN');
  });

  it('promotes and demotes a lead; the last lead is never demoted nor removed, by a lead or an owner', async () => {
    const { router, as, id } = await team();
    ok(await router.call('groups.grant', await withBase(router, 'groups.grant', { id, username: 'luke' })));
    ok(await router.call('groups.grant', await withBase(router, 'groups.grant', { id, username: 'tom' })));
    const last = await router.call('groups.setLead', await withBase(router, 'groups.setLead', { id, username: 'lena', lead: false }));
    expect(last).toEqual({ ok: false, error: { code: 'FORBIDDEN', message: 'lena is the last lead of Night shift: make another member a lead first.' } });
    expect(errorCode(await router.call('groups.revoke', await withBase(router, 'groups.revoke', { id, username: 'lena' })))).toBe('FORBIDDEN');
    await as(OWNER);
    expect(errorCode(await router.call('groups.revoke', await withBase(router, 'groups.revoke', { id, username: 'lena' })))).toBe('FORBIDDEN');
    expect(errorCode(await router.call('groups.setLead', await withBase(router, 'groups.setLead', { id, username: 'lena', lead: false })))).toBe('FORBIDDEN');
    expect(leadsOf(ok(await router.call('groups.members', { id })) as MemberView[])).toEqual(['lena']);

    await as('lena');
    expect(ok(await router.call('groups.setLead', await withBase(router, 'groups.setLead', { id, username: 'luke', lead: true })))).toMatchObject({ name: 'luke', lead: true });
    expect(leadsOf(ok(await router.call('groups.members', { id })) as MemberView[])).toEqual(['lena', 'luke']);
    // Two leads: either may step down.
    ok(await router.call('groups.setLead', await withBase(router, 'groups.setLead', { id, username: 'lena', lead: false })));
    // No longer a lead, lena manages the group no more.
    expect(errorCode(await router.call('groups.members', { id }))).toBe('FORBIDDEN');
    expect(errorCode(await router.call('groups.setLead', await withBase(router, 'groups.setLead', { id, username: 'lena', lead: true })))).toBe('FORBIDDEN');

    await as('luke');
    ok(await router.call('groups.revoke', await withBase(router, 'groups.revoke', { id, username: 'lena' })));
    expect(errorCode(await router.call('groups.setLead', await withBase(router, 'groups.setLead', { id, username: 'luke', lead: false })))).toBe('FORBIDDEN');
    expect(errorCode(await router.call('groups.revoke', await withBase(router, 'groups.revoke', { id, username: 'luke' })))).toBe('FORBIDDEN');
    // Promoting someone who is not a member is not a way in.
    expect(errorCode(await router.call('groups.setLead', await withBase(router, 'groups.setLead', { id, username: 'tess', lead: true })))).toBe('NOT_FOUND');
    expect(leadsOf(ok(await router.call('groups.members', { id })) as MemberView[])).toEqual(['luke']);

    // A technician manages no group.
    await as('tom');
    expect(errorCode(await router.call('groups.setLead', await withBase(router, 'groups.setLead', { id, username: 'tom', lead: true })))).toBe('FORBIDDEN');
    expect(errorCode(await router.call('groups.candidates', { id }))).toBe('FORBIDDEN');

    await as(OWNER);
    const actions = (ok(await router.call('audit.list', {})) as Array<{ action: string }>).map((r) => r.action);
    expect(actions.filter((a) => a === 'group.lead' || a === 'group.unlead')).toHaveLength(2);
  });

  it('renames a group; names stay unique, and only those who manage it may', async () => {
    const { router, as, id } = await team();
    expect(ok(await router.call('groups.rename', await withBase(router, 'groups.rename', { id, name: '  Day shift ' })))).toMatchObject({ id, name: 'Day shift' });
    const other = ok(await router.call('groups.create', { name: 'Servers' })) as GroupSummary;
    expect(errorCode(await router.call('groups.rename', await withBase(router, 'groups.rename', { id: other.id, name: 'day shift' })))).toBe('ALREADY_EXISTS');
    expect(errorCode(await router.call('groups.rename', await withBase(router, 'groups.rename', { id, name: '' })))).toBe('INVALID_INPUT');
    expect((ok(await router.call('groups.list', {})) as GroupSummary[]).map((g) => g.name)).toEqual(['Day shift', 'Default', 'Servers']);
    await as('luke');
    expect(errorCode(await router.call('groups.rename', await withBase(router, 'groups.rename', { id, name: 'Mine now' })))).toBe('FORBIDDEN');
    await as(OWNER);
    expect((ok(await router.call('groups.list', {})) as GroupSummary[]).map((g) => g.name)).toContain('Day shift');
  });
});
