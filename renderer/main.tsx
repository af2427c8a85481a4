/** The renderer's entry: connects to the vault (Electron or the browser host) and mounts the app. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { connect } from './client';
import { applyTheme, cachedTheme } from './theme';
import './styles.css';

// Before the first paint, so a chosen theme does not flash the other one.
applyTheme(cachedTheme());
const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App connection={connect()} />
    </StrictMode>,
  );
}
