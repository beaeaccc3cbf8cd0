// The keys view's policy editor: one key's weight, group, own rpm/tpm, proxy and note, saved
// with PATCH /admin/api/keys/{id} (only the fields that changed). The proxy is write-only: the
// field shows the masked form the API gave, and sending it back unchanged keeps the stored
// proxy. A refused value is shown next to its field and the dialog stays open.

import {patch} from './api.js';
import {t} from './i18n.js';
import {h, openDialog, toast} from './ui.js';

const FIELDS = [
  {name: 'weight', type: 'number', min: 1, max: 100},
  {name: 'group', type: 'text', maxlength: 64},
  {name: 'rpm', type: 'number', min: 0},
  {name: 'tpm', type: 'number', min: 0},
  {name: 'proxy', type: 'text', maxlength: 2048},
  {name: 'note', type: 'textarea', maxlength: 500},
];
const NUMERIC = new Set(['weight', 'rpm', 'tpm']);

/** Opens the editor for key `k` (a Key object); resolves true when a change was saved. */
export function openKeyEditor(k) {
  const inputs = {};
  const errors = {};
  const rows = FIELDS.map((f) => {
    const id = `key-edit-${f.name}`;
    const value = k[f.name] ?? (NUMERIC.has(f.name) ? 0 : '');
    const input = f.type === 'textarea'
        ? h('textarea', {id, rows: 2, maxlength: f.maxlength, 'data-testid': `key-edit-${f.name}`})
        : h('input', {id, type: f.type, min: f.min, max: f.max, maxlength: f.maxlength, step: f.type === 'number' ? 1 : undefined,
                      autocomplete: 'off', spellcheck: 'false', 'data-testid': `key-edit-${f.name}`,
                      placeholder: f.name === 'proxy' ? 'socks5h://user:pass@host:1080' : undefined});
    input.value = String(value);
    inputs[f.name] = input;
    errors[f.name] = h('p', {class: 'form-error', role: 'alert', hidden: true, 'data-testid': `key-edit-${f.name}-error`});
    return h('div', {class: 'form-row'},
             h('label', {for: id}, t(`keyedit.${f.name}`)), input,
             h('p', {class: 'muted small'}, t(`keyedit.${f.name}_hint`)), errors[f.name]);
  });
  const general = h('p', {class: 'form-error', role: 'alert', hidden: true, 'data-testid': 'key-edit-error'});
  const d = openDialog({
    title: t('keyedit.title', {key: k.masked, id: k.id}), testid: 'key-edit-dialog',
    body: [...rows, general],
    buttons: [{label: t('cancel'), cls: 'btn-ghost', testid: 'key-edit-cancel', value: false},
              {label: t('keyedit.save'), cls: 'btn-primary', testid: 'key-edit-save', onclick: save, value: true}],
  });

  function clearErrors() {
    for (const f of FIELDS) {
      errors[f.name].hidden = true;
      inputs[f.name].removeAttribute('aria-invalid');
    }
    general.hidden = true;
  }

  async function save() {
    clearErrors();
    const body = {};
    for (const f of FIELDS) {
      const raw = inputs[f.name].value;
      const before = k[f.name] ?? (NUMERIC.has(f.name) ? 0 : '');
      if (NUMERIC.has(f.name)) {
        const trimmed = raw.trim();
        const n = trimmed === '' ? 0 : Number(trimmed);
        // Sent as typed when it is not a whole number: the server names the field.
        if (n !== before) body[f.name] = Number.isInteger(n) ? n : trimmed;
      } else if (raw !== before) {
        body[f.name] = raw;
      }
    }
    if (!Object.keys(body).length) return true;  // nothing changed
    try {
      await patch(`keys/${encodeURIComponent(k.id)}`, body);
      toast(t('keyedit.saved', {id: k.id}), 'ok');
      return true;
    } catch (e) {
      const where = e.field && errors[e.field] ? e.field : null;
      const box = where ? errors[where] : general;
      box.textContent = e.message;
      box.hidden = false;
      if (where) {
        inputs[where].setAttribute('aria-invalid', 'true');
        inputs[where].focus();
      }
      return false;  // keep the dialog open
    }
  }

  inputs.weight.focus();
  return d.closed.then((v) => v === true);
}

/** The short policy text of a key for its table row: "×3 · paid · proxy", "" for the defaults. */
export function policySummary(k) {
  const parts = [];
  if ((k.weight ?? 1) !== 1) parts.push(`×${k.weight}`);
  if (k.group) parts.push(k.group);
  if (k.proxy) parts.push(t('keyedit.via_proxy'));
  return parts.join(' · ');
}

/** The key's last minute against its own limits: "3/60 req · 1.2k/100k tok". */
export function lastMinuteText(k, fmt) {
  const m = k.last_minute || {requests: 0, tokens: 0, rpm: 0, tpm: 0};
  const limit = (n) => (n > 0 ? `/${fmt(n)}` : '');
  return `${fmt(m.requests)}${limit(m.rpm)} ${t('keyedit.req')} · ${fmt(m.tokens)}${limit(m.tpm)} ${t('keyedit.tok')}`;
}
