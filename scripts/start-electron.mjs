// `npm start`: runs the Electron shell on the built main process. Electron's binary is a
// download of its own; where it is missing (as on machines installed with
// ELECTRON_SKIP_BINARY_DOWNLOAD=1) say so in one line and name the browser host instead.
// Never require('electron') to find it: that starts the download itself.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const packageDir = path.resolve('node_modules/electron');
const pathFile = path.join(packageDir, 'path.txt');
const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : '';
const binary = process.env.ELECTRON_OVERRIDE_DIST_PATH
  ? path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH, relative || 'electron')
  : relative && path.join(packageDir, 'dist', relative);
if (!binary || !existsSync(binary)) {
  console.error('crewvault: the Electron binary is not installed on this machine (node node_modules/electron/install.js fetches it where the internet is reachable); run the UI in a browser with "npx crewvault serve" instead.');
  process.exit(1);
}
const child = spawn(binary, [path.resolve('dist/electron/main.cjs')], { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 1));
