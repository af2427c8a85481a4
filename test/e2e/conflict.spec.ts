// Two writers on one entry (issue #13): the edit form sends the revision it opened, so a save
// after someone else's change is refused with CONFLICT, said in one line, and the other change is kept.
import { expect, test } from './fixtures';
import { addEntry, detailsPane, selectRow } from './helpers';

test('saving an entry someone changed since it was opened says so and keeps their change', async ({ vaultPage: page, host }) => {
  const row = await addEntry(page, { customer: 'Acme', title: 'VPN', username: 'ops', password: 'first-pass' });
  await selectRow(row);
  await detailsPane(page, 'VPN').getByRole('button', { name: 'Edit' }).click();
  const dialog = page.getByRole('dialog', { name: 'Edit entry' });
  await expect(dialog.getByLabel('Username')).toHaveValue('ops');

  // Another window of this session writes the entry meanwhile.
  const list = await (await page.request.post(`${host.origin}/rpc/entries.list`, { data: {} })).json() as { ok: boolean; value: { id: number[] } };
  const id = list.value.id[0];
  const other = await page.request.post(`${host.origin}/rpc/entries.update`, { data: { id, baseRevision: 1, changes: { username: 'someone-else' } } });
  expect(await other.json()).toMatchObject({ ok: true, value: { username: 'someone-else', revision: 2 } });

  await dialog.getByLabel('Username').fill('mine');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog.getByRole('alert')).toContainText('This entry was changed since you opened it');
  const details = await (await page.request.post(`${host.origin}/rpc/entries.get`, { data: { id } })).json() as { value: { username: string; revision: number } };
  expect(details.value).toMatchObject({ username: 'someone-else', revision: 2 });
});
