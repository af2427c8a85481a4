/**
 * The launch URL `crewvault serve` prints (electron/host/server.ts), as the tests that run the
 * real CLI find it in its output: 127.0.0.1, a port, and a 256-bit one-time code.
 */
export const LAUNCH_URL = /(http:\/\/127\.0\.0\.1:\d+\/\?launch=[A-Za-z0-9_-]{43})/;
