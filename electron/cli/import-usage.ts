/**
 * What `crewvault --help` says of `import`, apart from import.ts: that module pulls in every
 * importer (shared/import), which only `import` needs, so the CLI loads it when `import` runs
 * (like serve-usage.ts). The format names are checked against the registry by a test
 * (test/integration/cli-import.test.ts), so this list cannot drift from what import reads.
 */
export const IMPORT_FORMATS = ['aegis', '2fas', 'bitwarden', 'keepassxc-csv', '1password', 'ente', 'otpauth', 'csv', 'qr', 'kdbx'] as const;
export const IMPORT_SUMMARY = 'import OTP keys and logins from another app\'s export, a file or stdin';
export const IMPORT_USAGE = `crewvault import [--vault PATH] [--user NAME] [--format auto|FORMAT] FILE|- [--customer C] [--group GROUP] [--dry-run] [--skip-bad]
       crewvault import --format csv --map title=COLUMN[,otp=COLUMN,username=…] FILE …
       crewvault import --format csv --columns FILE|-
  FORMAT: ${IMPORT_FORMATS.join(', ')}. "auto" (the default) recognises it from the content.
  csv: any spreadsheet; --map names the column of each field (title is required; customer,
  username, password, url, notes and otp — a key or an otpauth:// URI — are optional).
  Several FILEs are read as QR code images (PNG), e.g. the pages of a Google Authenticator
  export: joined, and a page that is missing is named.
  "-" reads the export from piped stdin, after your password's line (none in a terminal that
  ran "crewvault unlock": the input alone). An encrypted export's
  password is asked after yours (or is the next piped line). --dry-run shows what would be
  imported, skipped and found already in the vault, and writes nothing.
  An entry that cannot be imported (a broken key, a field too long) stops the import: nothing
  is written. --skip-bad imports the rest without it. Duplicates of what the vault holds are
  skipped (and listed). --columns lists a spreadsheet's columns, to write --map.`;
