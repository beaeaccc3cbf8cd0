// Entry point of the dashboard page: checks the session, wires the header (language switch,
// logout) and mounts one view at a time from the URL hash (#/keys?status=disabled). The hash
// only ever holds view names and filters, never a secret.

import {api, post, LOGIN_PAGE} from './api.js';
import {t, applyI18n, initLangSelect} from './i18n.js';
import {h, toast} from './ui.js';
import * as dashboard from './dashboard.js';
import * as keys from './keys.js';
import * as tokens from './tokens.js';
import * as settings from './settings.js';
import * as logs from './logs.js';

const VIEWS = {dashboard, keys, tokens, settings, logs};
const container = document.getElementById('view');
let unmount = null;

/** Parses "#/logs?key=3" → {name: 'logs', params: URLSearchParams}. */
function route() {
  const raw = window.location.hash.replace(/^#\/?/, '');
  const [name, query = ''] = raw.split('?');
  return {name: VIEWS[name] ? name : 'dashboard', params: new URLSearchParams(query)};
}

/** Goes to a view with parameters (the hashchange listener mounts it). */
export function navigate(name, params = {}) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v != null));
  const hash = `#/${name}${q.toString() ? `?${q}` : ''}`;
  if (window.location.hash === hash) mount();
  else window.location.hash = hash;
}

function mount() {
  if (unmount) {
    try { unmount(); } catch { /* a view failing to clean up must not block the next */ }
    unmount = null;
  }
  const {name, params} = route();
  for (const a of document.querySelectorAll('.nav a')) {
    a.classList.toggle('active', a.dataset.view === name);
    if (a.dataset.view === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${t(`nav.${name}`)} · gemgate`;
  container.replaceChildren();
  container.dataset.view = name;
  const root = h('div', {class: `view-${name}`, 'data-testid': `view-${name}`});
  container.append(root);
  unmount = VIEWS[name].mount(root, {params, navigate}) || null;
}

async function logout() {
  try {
    await post('logout');
  } catch (e) {
    toast(t('logout.failed', {msg: e.message}), 'error');
    return;
  }
  window.location.assign(LOGIN_PAGE);
}

async function init() {
  applyI18n(document);
  initLangSelect(document.getElementById('lang-select'), () => {
    applyI18n(document);
    mount();
  });
  document.getElementById('logout').addEventListener('click', logout);
  // The server only serves this page with a valid session, but it may expire while open: a
  // 401 from here (or any later call) goes to the login page.
  await api('session');
  window.addEventListener('hashchange', mount);
  mount();
}

init();
