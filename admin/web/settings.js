// Settings view: a form generated from GET /admin/api/settings (one input per type, defaults and
// ranges shown, reset to default, write-only secrets), in titled groups with labels and
// descriptions in the page's language (settings-meta.js). Save sends a PATCH with only the
// changed fields; the server's validation message is shown next to the field it names.

import {get, patch} from './api.js';
import {t, lang} from './i18n.js';
import {h, toast, confirmDialog} from './ui.js';
import {parseSettingInput, settingsPatch} from './format.js';
import {groupSettings, settingText, groupTitle} from './settings-meta.js';

// Unsetting the admin token would lock every operator out: it can be replaced, not cleared.
function resettable(item) {
  return item.name !== 'admin_token';
}

function show(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Mounts the view into root; returns its cleanup function. */
export function mount(root) {
  let alive = true;
  let items = [];
  let edits = {};        // name → {value} | {reset: true} | {invalid: true}
  const fields = {};     // name → {wrap, input, error, resetBtn, item}
  const banner = h('p', {class: 'form-error banner', role: 'alert', 'data-testid': 'settings-error', hidden: true});
  const list = h('div', {class: 'settings-groups'});
  const pending = h('span', {class: 'muted', 'data-testid': 'settings-pending'});
  const discard = h('button', {type: 'button', class: 'btn btn-ghost', 'data-testid': 'settings-discard',
                               onclick: () => { edits = {}; render(); }}, t('settings.discard'));
  const save = h('button', {type: 'submit', class: 'btn btn-primary', 'data-testid': 'settings-save'}, t('settings.save'));
  const form = h('form', {class: 'settings-form', novalidate: true, 'data-testid': 'settings-form'},
                 banner, list, h('div', {class: 'form-footer'}, pending, discard, save));
  form.addEventListener('submit', submit);
  root.append(h('div', {class: 'view-head'}, h('h1', {}, t('nav.settings')),
                  h('p', {class: 'muted'}, t('settings.intro'))),
              h('section', {class: 'panel'}, form));

  function inputFor(item) {
    const id = `setting-${item.name}`;
    const common = {id, name: item.name, 'data-testid': `setting-${item.name}`};
    const e = edits[item.name];
    const current = e && e.reset ? item.default : item.value;
    switch (item.type) {
      case 'bool':
        return h('input', {...common, type: 'checkbox', class: 'switch', checked: current === true});
      case 'int':
        return h('input', {...common, type: 'number', step: 1, min: item.min, max: item.max,
                           value: e && 'raw' in e ? e.raw : show(current)});
      case 'json':
        return h('textarea', {...common, rows: 4, spellcheck: 'false', class: 'mono',
                              value: e && 'raw' in e ? e.raw : JSON.stringify(current, null, 2)});
      case 'secret':
        return h('input', {...common, type: 'password', autocomplete: 'new-password', spellcheck: 'false',
                           value: e && 'raw' in e ? e.raw : '',
                           placeholder: item.value && item.value.set ? t('settings.secret_replace') : t('settings.secret_enter')});
      default:
        return h('input', {...common, type: 'text', spellcheck: 'false',
                           value: e && 'raw' in e ? e.raw : show(current)});
    }
  }

  function hint(item) {
    const parts = [];
    if (item.type === 'secret') parts.push(t('settings.secret_hint'));
    else parts.push(t('settings.default', {v: item.default === '' ? t('settings.empty') : show(item.default)}));
    if (item.min !== undefined && item.max !== undefined) parts.push(t('settings.range', {min: item.min, max: item.max}));
    else if (item.min !== undefined) parts.push(t('settings.min', {min: item.min}));
    else if (item.max !== undefined) parts.push(t('settings.max', {max: item.max}));
    return parts.join(' · ');
  }

  function field(item) {
    const input = inputFor(item);
    const error = h('p', {class: 'field-error', role: 'alert', 'data-testid': `error-${item.name}`, hidden: true});
    const e = edits[item.name];
    const badges = [];
    if (item.type === 'secret') {
      badges.push(h('span', {class: `badge ${item.value && item.value.set ? 'badge-active' : 'badge-muted'}`,
                             'data-testid': `secret-state-${item.name}`},
                    item.value && item.value.set ? t('settings.set') : t('settings.unset')));
    }
    if (item.overridden) badges.push(h('span', {class: 'badge badge-info'}, t('settings.overridden')));
    if (e && e.reset) badges.push(h('span', {class: 'badge badge-cooling'}, t('settings.will_reset')));
    const resetBtn = h('button', {type: 'button', class: 'btn btn-small btn-ghost', 'data-testid': `reset-${item.name}`,
                                  hidden: !(item.overridden || e) || (e && e.reset) || !resettable(item),
                                  onclick: () => {
                                    if (item.overridden) edits[item.name] = {reset: true};
                                    else delete edits[item.name];
                                    render();
                                  }},
                         item.type === 'secret' ? t('settings.clear_secret') : t('settings.reset'));
    const text = settingText(item, lang());
    const wrap = h('div', {class: `field${e ? ' changed' : ''}`, 'data-field': item.name},
                   h('div', {class: 'field-head'},
                     h('label', {for: input.id, class: 'field-label', 'data-testid': `label-${item.name}`}, text.label),
                     badges),
                   h('code', {class: 'field-name'}, item.name),
                   text.description
                       ? h('p', {class: 'field-desc', 'data-testid': `desc-${item.name}`}, text.description) : null,
                   h('div', {class: 'field-input'}, input, resetBtn),
                   h('p', {class: 'field-hint'}, hint(item)),
                   error);
    const onEdit = () => {
      const raw = item.type === 'bool' ? input.checked : input.value;
      const p = parseSettingInput(item.type, raw);
      if (item.type === 'secret' && raw === '') delete edits[item.name];
      else if (p.ok) edits[item.name] = {value: p.value, raw};
      else edits[item.name] = {invalid: true, raw};
      setError(item.name, p.ok ? '' : t(`settings.bad_${p.error}`, {detail: p.detail || ''}));
      wrap.classList.toggle('changed', !!edits[item.name]);
      resetBtn.hidden = !(item.overridden || edits[item.name]) || !resettable(item);
      updateFooter();
    };
    input.addEventListener(item.type === 'bool' ? 'change' : 'input', onEdit);
    fields[item.name] = {wrap, input, error, item};
    return wrap;
  }

  function setError(name, msg) {
    const f = fields[name];
    if (!f) return false;
    f.error.textContent = msg;
    f.error.hidden = !msg;
    f.wrap.classList.toggle('has-error', !!msg);
    if (msg) f.input.setAttribute('aria-invalid', 'true'); else f.input.removeAttribute('aria-invalid');
    return true;
  }

  function updateFooter() {
    const n = Object.keys(settingsPatch(items, edits)).length;
    const invalid = Object.values(edits).some((e) => e.invalid);
    pending.textContent = invalid ? t('settings.fix_errors') : n ? t('settings.n_changes', {n}) : t('settings.no_changes');
    save.disabled = invalid || n === 0;
    discard.disabled = Object.keys(edits).length === 0;
  }

  function render() {
    for (const k of Object.keys(fields)) delete fields[k];
    list.replaceChildren(...groupSettings(items).map((g) => h(
        'fieldset', {class: 'settings-group', 'data-group': g.id, 'data-testid': `settings-group-${g.id}`},
        h('legend', {}, groupTitle(g.id, lang())),
        h('div', {class: 'settings-list'}, g.items.map(field)))));
    banner.hidden = true;
    updateFooter();
  }

  async function submit(ev) {
    ev.preventDefault();
    const body = settingsPatch(items, edits);
    if (!Object.keys(body).length) return;
    // Secrets are the risky ones: a new admin token signs everybody out (this page included),
    // and an unset secret cannot be read back.
    const risky = Object.keys(body).filter((n) => fields[n] && fields[n].item.type === 'secret');
    if (risky.length) {
      const ok = await confirmDialog({
        title: t('settings.confirm_title'),
        message: risky.includes('admin_token') ? t('settings.confirm_admin_token')
                                               : t('settings.confirm_secret', {names: risky.join(', ')}),
        confirmLabel: t('settings.save'), danger: true});
      if (!ok) return;
    }
    for (const name of Object.keys(fields)) setError(name, '');
    banner.hidden = true;
    save.disabled = true;
    try {
      const r = await patch('settings', body);
      items = r.items || items;
      edits = {};
      render();
      toast(t('settings.saved'), 'ok');
    } catch (e) {
      if (e.field && setError(e.field, e.message)) {
        fields[e.field].wrap.scrollIntoView({block: 'center'});
        fields[e.field].input.focus();
      } else {
        banner.textContent = t('settings.save_failed', {msg: e.message});
        banner.hidden = false;
      }
      updateFooter();
    }
  }

  get('settings').then((r) => {
    if (!alive) return;
    items = r.items || [];
    render();
    root.dataset.loaded = 'true';
  }).catch((e) => toast(t('load_failed', {msg: e.message}), 'error'));
  return () => { alive = false; };
}
