/**
 * The Team server screen's "Server administration" area (#14, "the admin screens manage the
 * server's policy, devices, e-mail/SMS settings (where allowed) and tokens"). It asks the server
 * who the person is there (teamAdmin.overview: the role its own session route reports) and shows
 * the parts that role reaches, as tabs: People and MFA, Policy, Devices, Automation tokens, and
 * E-mail and SMS, which the server answers only on its own machine with its data folder's key,
 * so this says where and how they are managed instead of offering a form that would fail. The
 * server still decides each act; its refusals are shown as it worded them.
 * Must never: decide a permission itself beyond which tabs to offer, or keep a code or token.
 */
import { useCallback, useEffect, useState, type KeyboardEvent } from 'react';
import type { TeamAdminOverview } from '../../shared/api/team-admin-contract';
import type { Connection } from '../client';
import { useCall } from '../hooks/useCall';
import { TeamAdminDevices } from './TeamAdminDevices';
import { TeamAdminPeople } from './TeamAdminPeople';
import { TeamAdminPolicy } from './TeamAdminPolicy';
import { useFreshProof } from './TeamAdminProof';
import { TeamAdminTokens } from './TeamAdminTokens';
import './TeamAdmin.css';

type Tab = 'people' | 'policy' | 'devices' | 'tokens' | 'settings';
const TABS: readonly { readonly tab: Tab; readonly label: string }[] = [
  { tab: 'people', label: 'People and MFA' },
  { tab: 'policy', label: 'Policy' },
  { tab: 'devices', label: 'Devices' },
  { tab: 'tokens', label: 'Automation tokens' },
  { tab: 'settings', label: 'E-mail and SMS' },
];

/** Where the server's e-mail and SMS settings are managed, in words. */
export function SettingsWhere({ overview }: { readonly overview: TeamAdminOverview }) {
  return (
    <>
      <p>
        The server&apos;s e-mail (SMTP) and SMS settings answer only on the server&apos;s own machine, to someone who can read the key in its data
        folder. {overview.serverOnThisComputer
          ? 'This server runs on this computer: manage them in a terminal here, as the user the server runs as, with crewvault server admin.'
          : `They are managed on the server (${overview.server}) with crewvault server admin, not from this desktop.`}
      </p>
      <ul>
        <li><code>crewvault server admin smtp show</code>, <code>smtp set …</code>, <code>smtp test --to ADDRESS</code></li>
        <li><code>crewvault server admin sms show</code>, <code>sms set …</code>, <code>sms test --phone NUMBER</code></li>
      </ul>
    </>
  );
}

export function TeamAdmin({ connection }: { readonly connection: Connection }) {
  const { api, transport } = connection;
  const call = useCall();
  const [open, setOpen] = useState(false);
  const [overview, setOverview] = useState<TeamAdminOverview | null>(null);
  const [tab, setTab] = useState<Tab>('people');
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const fail = useCallback((line: string) => { setNotice(null); setError(line); }, []);
  const say = useCallback((line: string) => { setError(null); setNotice(line); }, []);
  const { proven, dialog } = useFreshProof(fail);

  useEffect(() => {
    if (!open) return;
    void call(api.teamAdmin.overview({}), fail).then((read) => {
      if (read) setOverview(read);
    });
  }, [open, api, call, fail]);

  function choose(next: Tab) {
    setTab(next);
    setError(null);
    setNotice(null);
  }

  // The WAI-ARIA tabs pattern: one tab stop, arrows move between tabs.
  function onTabKey(event: KeyboardEvent<HTMLButtonElement>) {
    if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
    event.preventDefault();
    const index = TABS.findIndex((t) => t.tab === tab);
    const next = TABS[(index + (event.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length];
    if (!next) return;
    choose(next.tab);
    document.getElementById(`team-admin-tab-${next.tab}`)?.focus();
  }

  const administers = overview !== null && overview.role !== 'member';
  return (
    <section className="page-section team-admin" aria-labelledby="team-admin-title">
      <h3 id="team-admin-title">Server administration</h3>
      {!open ? (
        <div className="row"><button type="button" onClick={() => setOpen(true)}>Open server administration</button></div>
      ) : !overview ? (
        error ? <p role="alert" className="error">{error}</p> : <p aria-busy="true">Asking the server what your role there allows…</p>
      ) : !administers ? (
        <p>Your role on {overview.server} is member: its administration is for its owners and admins.</p>
      ) : (
        <>
          <p className="muted">Signed in to {overview.server} as {overview.username}, {overview.role}. The server decides each change and says why when it refuses.</p>
          <div role="tablist" aria-label="Server administration" className="row tabs wrap">
            {TABS.map((t) => (
              <button key={t.tab} type="button" role="tab" id={`team-admin-tab-${t.tab}`} aria-selected={t.tab === tab} aria-controls={t.tab === tab ? 'team-admin-panel' : undefined}
                tabIndex={t.tab === tab ? 0 : -1} className={t.tab === tab ? 'current' : ''} onClick={() => choose(t.tab)} onKeyDown={onTabKey}>
                {t.label}
              </button>
            ))}
          </div>
          {notice && <p role="status" className="muted">{notice}</p>}
          {error && <p role="alert" className="error">{error}</p>}
          <div role="tabpanel" id="team-admin-panel" aria-labelledby={`team-admin-tab-${tab}`} className="team-admin-scroll">
            {tab === 'people' && <TeamAdminPeople api={api} role={overview.role} me={overview.username} proven={proven} say={say} fail={fail} />}
            {tab === 'policy' && <TeamAdminPolicy api={api} canSet={overview.role === 'owner'} proven={proven} say={say} fail={fail} />}
            {tab === 'devices' && <TeamAdminDevices api={api} say={say} fail={fail} />}
            {tab === 'tokens' && <TeamAdminTokens api={api} transport={transport} say={say} fail={fail} />}
            {tab === 'settings' && <SettingsWhere overview={overview} />}
          </div>
          {dialog}
        </>
      )}
    </section>
  );
}
