/**
 * The usage text of `crewvault server code-key …`, apart from its code so `crewvault server
 * --help` and completion do not load the server's modules.
 */
export const CODE_KEY_USAGE = 'The server\'s code key (server-computed codes), on its own machine:\n'
  + '  crewvault server code-key show [--data DIR] [--database URL]\n'
  + '  crewvault server code-key rotate [--data DIR] [--database URL]\n'
  + '  crewvault server code-key delete-old [--force] [--data DIR] [--database URL]\n'
  + '  rotate      a new key that desktops seal to from their next sync on; the old one is kept\n'
  + '              (retiring) and still opens what was sealed to it, so codes keep coming\n'
  + '  delete-old  deletes the retiring keys no stored seal needs any more; --force deletes every\n'
  + '              one and the seals made to them: those groups\' codes stop until a key holder\'s\n'
  + '              desktop syncs. With PGlite, stop the server first; PostgreSQL needs no stop.';
