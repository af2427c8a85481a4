// `npm start`: runs the Electron shell on the built main process. Electron's binary is a
// download of its own; where it is missing (as on machines without internet, installed with
// ELECTRON_SKIP_BINARY_DOWNLOAD=1) say so in one line and name the browser host instead.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
let electronBinary;
try {
  electronBinary = require('electron'); // the package's main returns the binary's path, or throws
} catch {
  electronBinary = undefined;
}
if (typeof electronBinary !== 'string' || !existsSync(electronBinary)) {
  console.error('crewvault: the Electron binary is not installed on this machine; run the UI in a browser with "npx crewvault serve" instead.');
  process.exit(1);
}
const child = spawn(electronBinary, [path.resolve('dist/electron/main.cjs')], { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 1));
