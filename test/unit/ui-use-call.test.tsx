// @vitest-environment jsdom
/**
 * useCall, the renderer's one reply handler (issue #13): LOCKED and PASSWORD_CHANGE_REQUIRED go
 * to the app (SessionEnded), any other error to the screen's own line, decided by the code and
 * never the message; and screens that load quietly still hand those two to the app instead of
 * dropping them. Replies come from a scripted API (the renderer's only door to the main
 * process); must never reach a real vault.
 */
import { act, cleanup, render, renderHook } from '@testing-library/react';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CrewvaultApi } from '../../shared/api/client';
import type { Reply } from '../../shared/api/reply';
import type { ErrorCode, ErrorInfo } from '../../shared/errors';
import { MfaPolicyForm } from '../../renderer/components/MfaPolicyForm';
import { SessionEnded, useCall } from '../../renderer/hooks/useCall';

const failure = (code: ErrorCode, message: string): Promise<Reply<never>> => Promise.resolve({ ok: false, error: { code, message } });

function withApp(toApp: (error: ErrorInfo) => void) {
  return ({ children }: { children: ReactNode }) => <SessionEnded value={toApp}>{children}</SessionEnded>;
}

/** Every method answers as `answer` says; one it does not name never answers (a pending call). */
function scriptedApi(answer: Record<string, () => Promise<Reply<unknown>>>): CrewvaultApi {
  const group = (name: string) => new Proxy({}, {
    get: (_target, method: string) => () => answer[`${name}.${method}`]?.() ?? new Promise(() => undefined),
  });
  return new Proxy({}, { get: (_target, name: string) => group(name) }) as CrewvaultApi;
}

afterEach(() => cleanup());

describe('useCall', () => {
  it('hands LOCKED and PASSWORD_CHANGE_REQUIRED to the app and nothing to the screen', async () => {
    const toApp = vi.fn();
    const onError = vi.fn();
    const { result } = renderHook(() => useCall(), { wrapper: withApp(toApp) });
    await act(async () => {
      expect(await result.current(failure('LOCKED', 'Locked after 10 minutes idle.'), onError)).toBeUndefined();
      expect(await result.current(failure('PASSWORD_CHANGE_REQUIRED', 'Choose a new password first.'), onError)).toBeUndefined();
    });
    expect(toApp.mock.calls.map(([error]) => (error as ErrorInfo).code)).toEqual(['LOCKED', 'PASSWORD_CHANGE_REQUIRED']);
    expect(onError).not.toHaveBeenCalled();
  });

  it('gives any other error to the screen, with the whole error, and a value back on success', async () => {
    const toApp = vi.fn();
    const onError = vi.fn();
    const { result } = renderHook(() => useCall(), { wrapper: withApp(toApp) });
    await act(async () => {
      // A message that mentions locking is still the screen's: the code decides.
      expect(await result.current(failure('FORBIDDEN', 'Only owners may do this while the vault is locked.'), onError)).toBeUndefined();
      expect(await result.current(Promise.resolve({ ok: true, value: 7 }), onError)).toBe(7);
    });
    expect(onError).toHaveBeenCalledWith('Only owners may do this while the vault is locked.', { code: 'FORBIDDEN', message: 'Only owners may do this while the vault is locked.' });
    expect(toApp).not.toHaveBeenCalled();
  });

  it('without the app around it (a component on its own), LOCKED is the screen\'s like any other', async () => {
    const onError = vi.fn();
    const { result } = renderHook(() => useCall());
    await act(async () => {
      await result.current(failure('LOCKED', 'Locked.'), onError);
    });
    expect(onError).toHaveBeenCalledWith('Locked.', expect.objectContaining({ code: 'LOCKED' }));
  });
});

describe('screens that load quietly', () => {
  it('the two-step sign-in form hands a LOCKED load to the app instead of dropping it', async () => {
    const toApp = vi.fn();
    const api = scriptedApi({ 'mfa.status': () => failure('LOCKED', 'Locked after 10 minutes idle.') });
    await act(async () => {
      render(<SessionEnded value={toApp}><MfaPolicyForm api={api} roles={[]} myRole="owner" onMessage={() => undefined} /></SessionEnded>);
      await Promise.resolve();
    });
    expect(toApp).toHaveBeenCalledWith(expect.objectContaining({ code: 'LOCKED' }));
  });

  it('no renderer file but the hook and the app itself reads an error off a reply', () => {
    const root = path.resolve(__dirname, '../../renderer');
    const files = (folder: string): string[] => readdirSync(folder, { withFileTypes: true })
      .flatMap((item) => (item.isDirectory() ? files(path.join(folder, item.name)) : /\.tsx?$/.test(item.name) ? [path.join(folder, item.name)] : []));
    const readers = files(root)
      .filter((file) => /\breply\.error\b/.test(readFileSync(file, 'utf8')))
      .map((file) => path.relative(root, file));
    expect(readers.sort()).toEqual(['App.tsx', 'hooks/useCall.ts']);
  });
});
