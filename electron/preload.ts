/**
 * [Note: IPC contract] The preload exposes exactly one object, `window.crewvault`, with one
 * function per contract method (shared/api/contract.ts), each an ipcRenderer.invoke on that
 * method's own channel. Never `ipcRenderer` itself, never a generic "invoke anything".
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { Reply } from '../shared/api/reply';
import { buildApi } from '../shared/api/client';
import { ipcChannel } from '../shared/api/ipc';

contextBridge.exposeInMainWorld(
  'crewvault',
  buildApi((method, input) => ipcRenderer.invoke(ipcChannel(method), input) as Promise<Reply<unknown>>),
);
