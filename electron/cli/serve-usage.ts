/**
 * What `crewvault --help` says of `serve`, apart from serve.ts: that module pulls in the
 * router, the API contract and zod, which only the browser host needs, so the CLI loads it
 * when `serve` runs (scripts/build.mjs splits it into its own chunk).
 */
export const SERVE_SUMMARY = 'serve the UI to a browser on 127.0.0.1';
export const SERVE_USAGE = 'crewvault serve [--vault PATH] [--port N] [--no-open]';
