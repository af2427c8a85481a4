/**
 * Realistic bench data: an MSP's customers (about one per 20 entries), the services it keeps
 * credentials for, usernames, random passwords, URLs, a few notes, and TOTP secrets as
 * `otpauth://` URIs. Seeded, so two runs store the same shape of data (never cached: each run
 * generates it again). Names never contain "/" so "Customer/Title" is one path in both
 * Crewvault and KeePassXC, and titles are unique within a customer.
 */
import { randomBytes } from 'node:crypto';
import { encodeSecret } from '../../shared/otp';
import { seededRandom, type Random } from '../support/random';

export interface BenchEntry {
  readonly customer: string;
  readonly title: string;
  readonly username: string;
  readonly password: string;
  readonly url: string;
  readonly notes: string;
  /** An otpauth:// URI, or '' for an entry without OTP. */
  readonly otpUri: string;
}

/** The seeded generator the tests use (test/support/random.ts), under the bench's name. */
export type Rng = Random;

export function seededRng(seed: number): Rng {
  return seededRandom(seed);
}

const NAME_FIRST = [
  'Acme', 'Northwind', 'Blue Harbor', 'Contoso', 'Fabrikam', 'Granite', 'Silver Oak', 'Redwood', 'Lakeside', 'Summit',
  'Pioneer', 'Harbor View', 'Evergreen', 'Ironbridge', 'Maple Leaf', 'Crescent', 'Riverside', 'Sunrise', 'Westfield', 'Bright Path',
  'Keystone', 'Falcon', 'Orchard', 'Cedar Point', 'Atlas', 'Meridian', 'Beacon', 'Copperfield', 'Stonegate', 'Willow Creek',
  'Müller & Söhne', 'São Bento', 'Østergaard', 'Smith & Sons', 'Oakridge', 'Highland', 'Bayside', 'Pinecrest', 'Clearwater', 'Foxglove',
];
const NAME_MIDDLE = [
  'Dental', 'Logistics', 'Legal', 'Accounting', 'Family Practice', 'Construction', 'Veterinary', 'Realty', 'Manufacturing', 'Insurance',
  'Architects', 'Pharmacy', 'Auto Repair', 'Bakery', 'Consulting', 'Engineering', 'Hotels', 'Schools', 'Clinic', 'Freight',
  'Plumbing', 'Marketing', 'Brewing', 'Print Shop', 'Foods', 'Fitness', 'Optics', 'Energy', 'Farms', 'Media',
];
const NAME_LAST = ['Corp', 'LLC', 'Inc.', 'Group', 'GmbH', 'Ltd', 'Partners', 'Co.'];

const SERVICES: ReadonlyArray<readonly [title: string, url: (domain: string, rng: Rng) => string, issuer: string]> = [
  ['Microsoft 365 admin', () => 'https://admin.microsoft.com', 'Microsoft'],
  ['Azure portal', () => 'https://portal.azure.com', 'Microsoft'],
  ['Google Workspace admin', () => 'https://admin.google.com', 'Google'],
  ['AWS root account', () => 'https://console.aws.amazon.com', 'Amazon Web Services'],
  ['Firewall (FortiGate)', (_d, r) => `https://10.${r.int(0, 254)}.${r.int(0, 254)}.1:8443`, 'FortiGate'],
  ['SonicWall VPN', (d) => `https://vpn.${d}`, 'SonicWall'],
  ['Domain controller', (d) => `rdp://dc01.${d}`, 'Windows'],
  ['Backup NAS (Synology)', (_d, r) => `https://192.168.${r.int(0, 254)}.${r.int(2, 250)}:5001`, 'Synology'],
  ['Wi-Fi controller (UniFi)', (_d, r) => `https://10.${r.int(0, 254)}.0.2:8443`, 'Ubiquiti'],
  ['QuickBooks Online', () => 'https://qbo.intuit.com', 'Intuit'],
  ['Router admin', (_d, r) => `http://192.168.${r.int(0, 254)}.1`, 'Router'],
  ['ESXi host 1', (d) => `https://esx1.${d}/ui`, 'VMware'],
  ['ESXi host 2', (d) => `https://esx2.${d}/ui`, 'VMware'],
  ['vCenter', (d) => `https://vcenter.${d}`, 'VMware'],
  ['Printer (HP)', (_d, r) => `http://10.${r.int(0, 254)}.${r.int(0, 254)}.${r.int(2, 250)}`, 'HP'],
  ['Domain registrar', () => 'https://dcc.godaddy.com', 'GoDaddy'],
  ['DNS (Cloudflare)', () => 'https://dash.cloudflare.com', 'Cloudflare'],
  ['Website WordPress', (d) => `https://www.${d}/wp-admin`, 'WordPress'],
  ['Dropbox Business', () => 'https://www.dropbox.com/team/admin', 'Dropbox'],
  ['Slack workspace owner', (d) => `https://${d.split('.')[0] ?? 'team'}.slack.com`, 'Slack'],
  ['Zoom admin', () => 'https://zoom.us/account', 'Zoom'],
  ['Datto RMM', () => 'https://pinotage.rmm.datto.com', 'Datto'],
  ['Veeam Backup', (d) => `https://veeam.${d}:9443`, 'Veeam'],
  ['Entra ID break-glass', () => 'https://entra.microsoft.com', 'Microsoft'],
  ['Exchange Online', () => 'https://admin.exchange.microsoft.com', 'Microsoft'],
  ['Bank portal', () => 'https://business.bank.example', 'Bank'],
  ['Payroll (ADP)', () => 'https://workforcenow.adp.com', 'ADP'],
  ['Practice management', (d) => `https://pm.${d}`, 'PM'],
  ['Line-of-business app', (d) => `https://app.${d}`, 'LOB'],
  ['Switch core', (_d, r) => `ssh://10.${r.int(0, 254)}.0.${r.int(2, 9)}`, 'Cisco'],
  ['Switch access floor 1', (_d, r) => `ssh://10.${r.int(0, 254)}.1.${r.int(2, 9)}`, 'Cisco'],
  ['Switch access floor 2', (_d, r) => `ssh://10.${r.int(0, 254)}.2.${r.int(2, 9)}`, 'Cisco'],
  ['Local admin (LAPS)', () => '', 'Windows'],
  ['Security cameras NVR', (_d, r) => `http://10.${r.int(0, 254)}.50.${r.int(2, 250)}`, 'Hikvision'],
  ['Alarm system', () => 'https://alarm.example.net', 'Alarm'],
  ['GitHub organisation', () => 'https://github.com', 'GitHub'],
  ['Apple Business Manager', () => 'https://business.apple.com', 'Apple'],
  ['Intune', () => 'https://intune.microsoft.com', 'Microsoft'],
  ['SharePoint admin', (d) => `https://${d.split('.')[0] ?? 'team'}-admin.sharepoint.com`, 'Microsoft'],
  ['Password reset mailbox', (d) => `https://outlook.office.com/mail/reset@${d}`, 'Microsoft'],
];
const USER_FIRST = ['anna', 'ben', 'carla', 'dev', 'emma', 'farid', 'grace', 'hiro', 'ines', 'jonas', 'kim', 'luis', 'mia', 'noah', 'olga', 'priya'];
const USER_LAST = ['smith', 'garcia', 'mueller', 'nguyen', 'kowalski', 'rossi', 'tanaka', 'okafor', 'lindqvist', 'patel'];
const NOTES = [
  '',
  '',
  '',
  'Break-glass account: use only when SSO is down, then rotate.',
  'MFA enrolled on the shared help-desk phone.',
  'Customer contact approves changes by email first.',
  'Rotated after staff change; old password in ticket history.',
  'Console access only from the office VPN.',
];
const PASSWORD_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!@#$%^&*-_=+?';

function randomPassword(rng: Rng): string {
  let out = '';
  for (let i = rng.int(14, 28); i > 0; i--) out += PASSWORD_ALPHABET[rng.int(0, PASSWORD_ALPHABET.length - 1)];
  return out;
}

function domainOf(customer: string): string {
  const slug = customer.normalize('NFD').replace(/[^A-Za-z0-9 ]/g, '').trim().toLowerCase().replace(/\s+/g, '-');
  return `${slug}.example`;
}

function shuffle<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    const a = items[i];
    const b = items[j];
    if (a === undefined || b === undefined) continue;
    items[i] = b;
    items[j] = a;
  }
  return items;
}

/** Distinct customer names, as many as asked (falls back to numbered names past the product). */
function customerNames(count: number, rng: Rng): string[] {
  const total = NAME_FIRST.length * NAME_MIDDLE.length * NAME_LAST.length;
  const order = shuffle(Array.from({ length: total }, (_, i) => i), rng);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const k = order[i % total] ?? 0;
    const base = `${NAME_FIRST[k % NAME_FIRST.length]} ${NAME_MIDDLE[Math.floor(k / NAME_FIRST.length) % NAME_MIDDLE.length]} ${NAME_LAST[Math.floor(k / (NAME_FIRST.length * NAME_MIDDLE.length))]}`;
    names.push(i < total ? base : `${base} ${Math.floor(i / total) + 1}`);
  }
  return names;
}

function otpUri(rng: Rng, issuer: string, account: string): string {
  const secret = encodeSecret(randomBytes(rng.next() < 0.8 ? 20 : 32));
  const roll = rng.next();
  // Most services: SHA1, 6 digits, 30 s. A few use SHA256/SHA512, 8 digits or 60 s.
  const extra = roll < 0.85 ? '' : roll < 0.93 ? '&algorithm=SHA256' : roll < 0.97 ? '&digits=8' : roll < 0.99 ? '&algorithm=SHA512&digits=8' : '&period=60';
  return `otpauth://totp/${encodeURIComponent(issuer)}:${encodeURIComponent(account)}?secret=${secret}&issuer=${encodeURIComponent(issuer)}${extra}`;
}

/** `count` entries, about 20 per customer; ~75 % carry a TOTP secret. */
export function benchEntries(count: number, seed = 0x5eed): BenchEntry[] {
  const rng = seededRng(seed);
  // At least 10 entries per customer, so this many names is always enough.
  const customers = customerNames(Math.ceil(count / 10) + 1, rng);
  const out: BenchEntry[] = [];
  for (let c = 0; out.length < count; c++) {
    const customer = customers[c] ?? `Customer ${c}`;
    const domain = domainOf(customer);
    // 10 to 30 entries per customer (20 on average), each a different service.
    const services = shuffle([...SERVICES], rng);
    const perCustomer = Math.min(count - out.length, rng.int(10, 30));
    for (let i = 0; i < perCustomer; i++) {
      const service = services[i];
      if (!service) break;
      const [title, url, issuer] = service;
      const first = rng.pick(USER_FIRST);
      const last = rng.pick(USER_LAST);
      const roll = rng.next();
      const username = roll < 0.4 ? `admin@${domain}` : roll < 0.7 ? `${first}.${last}@${domain}` : roll < 0.85 ? `svc-${title.split(/[ (]/)[0]?.toLowerCase() ?? 'app'}` : roll < 0.95 ? 'Administrator' : `${first[0]}${last}`;
      out.push({
        customer,
        title,
        username,
        password: randomPassword(rng),
        url: url(domain, rng),
        notes: rng.pick(NOTES),
        otpUri: rng.next() < 0.75 ? otpUri(rng, issuer, username) : '',
      });
    }
  }
  return out;
}

/** ~20 search strings a technician types: customer and service fragments, usernames, URL
 * pieces, one-letter and no-match queries. */
export function searchQueries(entries: readonly BenchEntry[], seed = 0x5ea4c4): string[] {
  const rng = seededRng(seed);
  const pick = (): BenchEntry => rng.pick(entries);
  return [
    'a',
    'ac',
    'acme',
    pick().customer.slice(0, 4).toLowerCase(),
    pick().customer.split(' ')[0] ?? 'x',
    pick().customer,
    'admin',
    'microsoft',
    'vpn',
    'esxi host',
    'firewall',
    pick().title,
    pick().username.split('@')[0] ?? 'x',
    'svc-',
    '192.168.',
    'sharepoint.com',
    pick().url.replace(/^[a-z]+:\/\//, '').slice(0, 12),
    'dental',
    'zzqx-no-match',
    'müller',
  ];
}
