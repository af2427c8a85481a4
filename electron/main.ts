/**
 * The Electron main process: one hardened window onto the renderer, and the router behind
 * IPC. The vault lives here, never in the renderer.
 * Must never relax the window's isolation: contextIsolation, sandbox, no nodeIntegration,
 * a strict CSP, no remote content, navigation and new windows blocked, every permission
 * request denied, and IPC answered only for our own page.
 */
import { app, BrowserWindow, clipboard, dialog, ipcMain, powerMonitor, session, shell, type IpcMainInvokeEvent } from 'electron';
import { hostname } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { METHOD_NAMES } from '../shared/api/contract';
import { ipcChannel } from '../shared/api/ipc';
import { ClipboardGuard } from '../shared/clipboard';
import { webUrl } from '../shared/web-url';
import { SECURITY_HEADERS } from './host/security-headers';
import { configPath, configUiSettings, uiVaultPath, updateConfig } from './config';
import { keychainDeviceStore } from './devices';
import { Router } from './router';
import { questionWords, type TrustQuestion } from './team/confirm';

app.enableSandbox();

const RENDERER_INDEX = path.join(__dirname, '..', 'renderer', 'index.html');
const RENDERER_URL = pathToFileURL(RENDERER_INDEX).href;

/**
 * Before a certificate is pinned or a vault moved (team/confirm.ts): a native message box, which
 * the renderer can neither draw nor click. Cancel is the default and what Esc answers.
 */
async function confirmNatively(question: TrustQuestion): Promise<boolean> {
  const words = questionWords(question);
  const window = BrowserWindow.getAllWindows()[0];
  const options: Electron.MessageBoxOptions = {
    type: 'warning', title: words.title, message: words.message, detail: words.detail,
    buttons: ['Cancel', words.yes], defaultId: 0, cancelId: 0, noLink: true,
  };
  const answer = window ? await dialog.showMessageBox(window, options) : await dialog.showMessageBox(options);
  return answer.response === 1;
}

const CONFIG = configPath();
const router = new Router({
  vaultPath: uiVaultPath(CONFIG),
  onVaultOpened: (file) => void updateConfig(CONFIG, { lastVault: file }),
  ui: configUiSettings(CONFIG),
  clock: { now: () => Date.now() },
  clipboard: {
    kind: 'main',
    guard: new ClipboardGuard(
      { read: () => clipboard.readText(), write: (text) => clipboard.writeText(text) },
      { set: (callback, ms) => setTimeout(callback, ms), clear: (handle) => clearTimeout(handle as NodeJS.Timeout) },
    ),
  },
  log: (line) => console.error(line),
  devices: keychainDeviceStore(),
  deviceLabel: hostname(),
  team: { confirm: { confirm: confirmNatively } },
  // An entry's URL opens in the system browser, http(s) only (checked again here, at the last step).
  openExternal: async (url) => {
    const checked = webUrl(url);
    if (checked !== undefined) await shell.openExternal(checked);
  },
  pickVaultFile: async () => {
    const window = BrowserWindow.getAllWindows()[0];
    const options: Electron.OpenDialogOptions = {
      title: 'Open a Crewvault vault',
      properties: ['openFile', 'promptToCreate', 'dontAddToRecent'],
      filters: [{ name: 'Crewvault vault', extensions: ['crewvault'] }, { name: 'All files', extensions: ['*'] }],
    };
    const picked = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
    return picked.canceled ? undefined : picked.filePaths[0];
  },
  // Backups and plain exports ("Back up…", "Export…"): where the new file goes.
  pickSaveFile: async (suggested) => {
    const window = BrowserWindow.getAllWindows()[0];
    const options: Electron.SaveDialogOptions = { title: 'Save as', defaultPath: suggested, properties: ['showOverwriteConfirmation', 'dontAddToRecent'] };
    const picked = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
    return picked.canceled ? undefined : picked.filePath;
  },
});

/** Only our own page, in our own window, may call the router. */
function fromOurPage(event: IpcMainInvokeEvent): boolean {
  return event.senderFrame?.url === RENDERER_URL && BrowserWindow.fromWebContents(event.sender) !== null;
}

function registerIpc(): void {
  for (const method of METHOD_NAMES) {
    ipcMain.handle(ipcChannel(method), (event, input: unknown) => {
      if (!fromOurPage(event)) return { ok: false, error: { code: 'FORBIDDEN', message: 'Not from the Crewvault window.' } };
      return router.call(method, input);
    });
  }
}

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1200,
    height: 800,
    show: false,
    webPreferences: {
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      spellcheck: false,
      // Middle-click must not open links in new windows (electronegativity AUXCLICK_JS_CHECK).
      disableBlinkFeatures: 'Auxclick',
      preload: path.join(__dirname, 'preload.cjs'),
    },
  });
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  window.webContents.on('will-redirect', (event) => event.preventDefault());
  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  window.once('ready-to-show', () => window.show());
  void window.loadFile(RENDERER_INDEX);
  return window;
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const [window] = BrowserWindow.getAllWindows();
    if (window) {
      if (window.isMinimized()) window.restore();
      window.focus();
    }
  });
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
  void app.whenReady().then(() => {
    session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
    session.defaultSession.setPermissionCheckHandler(() => false);
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, ...Object.fromEntries(Object.entries(SECURITY_HEADERS).map(([k, v]) => [k, [v]])) } });
    });
    // Anything not a local file of ours is refused outright: no remote content.
    session.defaultSession.webRequest.onBeforeRequest((details, callback) => {
      callback({ cancel: !details.url.startsWith('file://') && !details.url.startsWith('devtools://') });
    });
    registerIpc();
    powerMonitor.on('lock-screen', () => router.lock());
    powerMonitor.on('suspend', () => router.lock());
    // A check that cannot read the vault's settings locks: better locked than left open.
    setInterval(() => void router.checkIdle().catch(() => router.lock()), 15_000).unref();
    createWindow();
  });
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', () => void router.close());
}
