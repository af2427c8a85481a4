/**
 * [Note: IPC contract] The preload exposes exactly one object, `window.crewvault`, with the
 * contract's specific calls (filled in with the router). Never `ipcRenderer` itself, never a
 * generic "invoke anything" bridge.
 */
import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('crewvault', Object.freeze({ transport: 'electron' }));
