/**
 * finPOWER's "Allow local access only", on by default: the routes the contract marks `local`
 * (the server's settings: SMTP, SMS, its status) answer only a request from this machine.
 *
 * "This machine" is decided from the socket alone: the peer address the TCP connection came
 * from is 127.0.0.1 or ::1 (or 127.0.0.1 as IPv4-mapped IPv6), the addresses a program on the
 * server's own machine connects from when it dials the server's loopback address. The rest of
 * 127.0.0.0/8 does not count: a connection from 127.0.0.2 was made on purpose from another
 * source address (a container's or a tunnel's), and it is what the tests use to stand for
 * another machine. A request carrying a proxy's forwarding header (Forwarded, X-Forwarded-For,
 * X-Real-IP) is not local whatever the socket says: a reverse proxy on this machine relays
 * other machines' requests from 127.0.0.1. The header's value is never believed, only its
 * presence; Fastify's trustProxy stays off, so `request.ip` is the socket's address too.
 *
 * `crewvault server --allow-remote-admin` turns the rule off (with a warning on start and an
 * audit event: server/main.ts). Must never: trust an address a client wrote in a header.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { CrewvaultError } from '../../shared/errors';

const THIS_MACHINE = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const;

/** Whether a request with this socket peer and these headers comes from the server's own machine. */
export function isFromThisMachine(peer: string | undefined, headers: IncomingHttpHeaders): boolean {
  if (peer === undefined || !THIS_MACHINE.has(peer.toLowerCase())) return false;
  return FORWARDING_HEADERS.every((name) => headers[name] === undefined);
}

/** Throws FORBIDDEN unless the request is from this machine or the server allows remote administration. */
export function requireThisMachine(fromThisMachine: boolean, allowRemoteAdmin: boolean): void {
  if (fromThisMachine || allowRemoteAdmin) return;
  throw new CrewvaultError('FORBIDDEN', 'Server settings are managed from the server\'s own machine only (crewvault server admin on it)');
}
