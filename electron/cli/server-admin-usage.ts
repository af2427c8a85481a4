/**
 * The usage text of `crewvault server admin …`, apart from its code so `crewvault server
 * --help` and completion read it without loading the team client.
 */
export const SERVER_ADMIN_USAGE = 'crewvault server admin status|smtp|sms [--server URL] [--json]\n'
  + '  crewvault server admin status                 database kind, listen address, TLS, local-only (no secrets)\n'
  + '  crewvault server admin smtp show\n'
  + '  crewvault server admin smtp set --host HOST --port PORT --security tls|starttls|none --from ADDRESS\n'
  + '                               [--smtp-user NAME [--password -] | --no-smtp-user]\n'
  + '  crewvault server admin smtp test --to ADDRESS\n'
  + '  crewvault server admin sms show\n'
  + '  crewvault server admin sms set --service clicksend|textmagic --sms-user NAME --sender NUMBER\n'
  + '                               [--api-key -] [--code-minutes N] [--trusted-hours N] [--base-url URL]\n'
  + '  crewvault server admin sms test --phone NUMBER  ("Test service": one test text message)\n'
  + '  These run on the server\'s own machine, as an owner: sign in first with\n'
  + '  "crewvault login http://127.0.0.1:PORT" (the server\'s loopback address); the command uses\n'
  + '  that kept session (--server names it when you keep several). The server still checks the\n'
  + '  role, and that the request comes from 127.0.0.1 or ::1 (unless it runs --allow-remote-admin).\n'
  + '  Secrets are never arguments: "--password -" and "--api-key -" read them from the terminal or\n'
  + '  the next line of stdin; left out, the stored one is kept. --code-minutes: at least 5 (default 5);\n'
  + '  --trusted-hours: how long "trust this device" lasts (default 48).';
