// The login page: exchanges the admin token for a session cookie and goes to /admin. The token
// only lives in the password field; it is never written to storage or put in a URL.

import {api, ApiError} from './api.js';
import {t, applyI18n, initLangSelect} from './i18n.js';

const form = document.getElementById('login-form');
const input = document.getElementById('token');
const error = document.getElementById('login-error');
const submit = form.querySelector('button[type=submit]');

function showError(text) {
  error.textContent = text;
  error.hidden = !text;
}

async function onSubmit(ev) {
  ev.preventDefault();
  const token = input.value.trim();
  if (!token) {
    showError(t('login.empty'));
    input.focus();
    return;
  }
  submit.disabled = true;
  showError('');
  try {
    await api('login', {method: 'POST', body: {token}, noRedirect: true});
    input.value = '';
    window.location.assign('/admin');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) showError(t('login.wrong'));
    else if (e instanceof ApiError && e.status === 429) {
      showError(t('login.throttled', {s: e.retryAfter || '?'}));
    } else showError(t('login.failed', {msg: e.message}));
    input.select();
  } finally {
    submit.disabled = false;
  }
}

function applyAll() {
  applyI18n(document);
  document.title = `${t('login.title')} · gemgate`;
}

async function init() {
  applyAll();
  initLangSelect(document.getElementById('lang-select'), applyAll);
  form.addEventListener('submit', onSubmit);
  // Already signed in (e.g. the back button): go straight to the dashboard.
  try {
    const s = await api('session', {noRedirect: true});
    if (s && s.authenticated) window.location.replace('/admin');
  } catch { /* not signed in: stay */ }
  input.focus();
}

init();
