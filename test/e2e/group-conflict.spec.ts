// Two writers on one access group (#13): the Groups screen sends the group's revision as it showed
// it, so a rename after someone else's change is refused with CONFLICT, said in one line, the
// other change kept and the group loaded again as it is now; saving again then works. In
// Chromium against a real `crewvault serve`, the other writer a second client of the same door.
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

function groupButton(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Access groups' }).getByRole('button', { name: new RegExp(`^${name} `) });
}

test('renaming a group someone else renamed since it was shown says so, reloads it and keeps their name', async ({ vaultPage: page, host }) => {
  await page.getByRole('button', { name: 'Groups', exact: true }).click();
  await page.getByLabel('New group').fill('Night shift');
  await page.getByRole('button', { name: 'Create group' }).click();
  await expect(page.getByRole('heading', { name: 'Night shift' })).toBeVisible();
  await page.getByRole('button', { name: 'Rename' }).click();
  await page.getByLabel('Group name').fill('Late shift');

  // Someone else renames it meanwhile, from the revision of now.
  const groups = await (await page.request.post(`${host.origin}/rpc/groups.list`, { data: {} })).json() as { value: Array<{ id: number; name: string; revision: number }> };
  const night = groups.value.find((g) => g.name === 'Night shift');
  if (!night) throw new Error('Night shift not listed');
  const other = await page.request.post(`${host.origin}/rpc/groups.rename`, { data: { id: night.id, name: 'Night crew', baseRevision: night.revision } });
  expect(await other.json()).toMatchObject({ ok: true, value: { name: 'Night crew', revision: night.revision + 1 } });

  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(page.getByRole('alert')).toHaveText('Someone else changed this group since it was shown: it has been loaded again as it is now. Check it, then redo your change.');
  await expect(groupButton(page, 'Night crew')).toBeVisible();
  const after = await (await page.request.post(`${host.origin}/rpc/groups.list`, { data: {} })).json() as { value: Array<{ id: number; name: string }> };
  expect(after.value.find((g) => g.id === night.id)?.name).toBe('Night crew');

  // Redone on what it is now: taken.
  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(page.getByRole('status')).toHaveText('Renamed to Late shift.');
  await expect(groupButton(page, 'Late shift')).toBeVisible();
});
