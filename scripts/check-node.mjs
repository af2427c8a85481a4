// Stops an npm script run by a Node older than Crewvault needs, with one line saying what to do
// (issue #11: a new terminal that had not sourced scripts/env.sh got pages of EBADENGINE warnings
// and native-module crashes instead). Imported first by scripts/build.mjs (npm install's prepare,
// build, bench*, start, dist) and run as npm's pretest. It must never change anything: it only reads
// the running Node's version. Plain JavaScript any Node runs, so the old one reads it too.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(`crewvault: this terminal runs Node ${process.versions.node}; Crewvault needs 22.12 or newer. Run "source scripts/env.sh" in this terminal first (it puts Node 24 first on PATH), then the npm command again.\n`);
  process.exit(1);
}
