/**
 * The usage text of `crewvault server admin …`, apart from its code so `crewvault server
 * --help` and completion (which reads subcommands and options from it) do not load the team
 * client.
 */
export const SERVER_ADMIN_USAGE = 'Managing the server, on its own machine (as an owner):\n'
  + '  crewvault server admin status [--json]   database kind, listen address, TLS, local-only (no secrets)\n'
  + '  crewvault server admin smtp show [--json]\n'
  + '  crewvault server admin smtp set --host HOST --port PORT --security MODE --from ADDRESS [--smtp-user NAME [--password -]] [--no-smtp-user]\n'
  + '  crewvault server admin smtp test --to ADDRESS\n'
  + '  crewvault server admin sms show [--json]\n'
  + '  crewvault server admin sms set --service NAME --sms-user NAME --sender NUMBER [--api-key -] [--code-minutes N] [--trusted-hours N] [--base-url URL]\n'
  + '  crewvault server admin sms test --phone NUMBER   ("Test service": one test text message)\n'
  + '  --security      tls, starttls, or none (none only to an SMTP server on this machine)\n'
  + '  --service       the SMS provider: clicksend or textmagic\n'
  + '  --code-minutes  how long a texted code lives: at least 5 (default 5)\n'
  + '  --trusted-hours how long "trust this device" lasts (default 48)\n'
  + '  --password -, --api-key -  read the secret from the terminal or the next line of stdin\n'
  + '                  (never an argument); left out, the stored one is kept\n'
  + '  --server URL    which kept session to use, when you keep several\n'
  + '  --data DIR      the server\'s data folder, as "crewvault server" was given it (default\n'
  + '                  $CREWVAULT_SERVER_DATA, else ~/.local/share/crewvault-server)\n'
  + '  How it signs in: first "crewvault login http://127.0.0.1:PORT" (the server\'s loopback\n'
  + '  address) as an owner; these commands use that kept session and the key in the data folder,\n'
  + '  which only its machine\'s user can read. The server still checks the role, the key and that\n'
  + '  the request comes from 127.0.0.1 or ::1 (unless it runs --allow-remote-admin).';
