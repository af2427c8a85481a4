/**
 * Where the server listens, and the rule that goes with it: plain HTTP only on loopback
 * (127.0.0.0/8, ::1, localhost), TLS everywhere else. A server that would speak plain HTTP to
 * a network refuses to start (USAGE, one line), so sign-in messages and tokens never cross a
 * network in the clear.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { CrewvaultError } from '../shared/errors';

export const DEFAULT_LISTEN = '127.0.0.1:8443';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** `HOST:PORT`, `[v6]:PORT`, or `:PORT` (loopback). */
export function parseListen(value: string): ListenAddress {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value.trim());
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || !Number.isInteger(port) || port > 65535) {
    throw new CrewvaultError('USAGE', '--listen takes HOST:PORT (e.g. 127.0.0.1:8443, 0.0.0.0:443, [::1]:8443)');
  }
  const host = match[1] ?? (match[2] === '' || match[2] === undefined ? '127.0.0.1' : match[2]);
  if (match[1] !== undefined && !isIPv6(host)) throw new CrewvaultError('USAGE', '--listen: the address in brackets is not IPv6');
  return { host, port };
}

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIPv4(host)) return host.startsWith('127.');
  if (isIPv6(host)) return host === '::1' || host === '0:0:0:0:0:0:0:1' || /^::ffff:127\./i.test(host);
  return false;
}

/** Throws USAGE unless the address is loopback or both TLS files are given, or only one of them is. */
export function checkTlsRule(listen: ListenAddress, tls: { cert?: string | undefined; key?: string | undefined }): void {
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new CrewvaultError('USAGE', '--tls-cert and --tls-key go together');
  }
  if (tls.cert === undefined && !isLoopbackHost(listen.host)) {
    throw new CrewvaultError('USAGE', `TLS is required to listen on ${listen.host}: give --tls-cert and --tls-key (plain HTTP is for loopback only)`);
  }
}

export function formatUrl(tls: boolean, host: string, port: number): string {
  const shown = isIPv6(host) ? `[${host}]` : host;
  return `${tls ? 'https' : 'http'}://${shown}:${port}`;
}
