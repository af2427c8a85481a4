// @vitest-environment jsdom
/**
 * The app's Import dialog after the all-or-nothing fix, on the real router over a real vault
 * file: the person's "import the other entries without these" is consent for the problems
 * shown when it was ticked, not for whatever a later preview lists.
 */
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApi } from '../../shared/api/client';
import type { GroupSummary } from '../../shared/model';
import { ImportDialog } from '../../renderer/components/ImportDialog';
import { newRouter, ok } from '../support/router';
import { OWNER, PASSWORD } from '../support/vault';

afterEach(() => cleanup());

describe('ImportDialog: skipping problems', () => {
  it('a re-preview with other columns listing new problems does not keep "Import the other entries without these" ticked', async () => {
    const { router } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    const groups = ok(await router.call('groups.list', {})) as GroupSummary[];
    const api = buildApi((method, input) => router.call(method, input));
    render(<ImportDialog connection={{ api, transport: 'electron' }} groups={groups} onClose={() => undefined} onImported={() => undefined} />);

    const csv = 'Name,Customer,Key,Other\nMail,Acme,JBSWY3DPEHPK3PXP,JBSWY3DPEHPK3PXP\nVPN,Acme,!!,!!\nWiki,Acme,GEZDGNBVGY3TQOJQ,!!\n';
    fireEvent.change(screen.getByRole('combobox'), { target: { value: 'csv' } });
    fireEvent.change(screen.getByLabelText('Export file'), { target: { files: [new File([csv], 'sheet.csv', { type: 'text/csv' })] } });
    const map = async (otpColumn: string) => {
      await screen.findByText(/Which column holds what/);
      fireEvent.change(screen.getByLabelText('Title (required)'), { target: { value: 'Name' } });
      fireEvent.change(screen.getByLabelText('Customer'), { target: { value: 'Customer' } });
      fireEvent.change(screen.getByLabelText('One-time password (key or otpauth:// link)'), { target: { value: otpColumn } });
      fireEvent.click(screen.getByRole('button', { name: 'Use these columns' }));
    };
    await map('Key');
    // Shown: one entry (VPN) cannot be imported; the person chooses to go on without it.
    await screen.findByText('Cannot be imported: 1 entry', {}, { timeout: 5000 });
    fireEvent.click(screen.getByLabelText('Import the other entries without these'));
    expect(screen.getByRole<HTMLButtonElement>('button', { name: 'Import 2 entries' }).disabled).toBe(false);

    // Other columns: Wiki's key is now broken too, a problem the person was never shown when ticking.
    fireEvent.click(screen.getByRole('button', { name: 'Change columns' }));
    await map('Other');
    await screen.findByText('Cannot be imported: 2 entries', {}, { timeout: 5000 });
    const importButton = await screen.findByRole<HTMLButtonElement>('button', { name: 'Import 1 entry' });
    // One click would import Mail and drop Wiki unseen-consented: the choice must be made again.
    expect({ ticked: screen.getByLabelText<HTMLInputElement>('Import the other entries without these').checked, importEnabled: !importButton.disabled }).toEqual({ ticked: false, importEnabled: false });
  });
});
