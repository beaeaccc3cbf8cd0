// The client token editor: a dialog with every policy field of one token (allowed models, rate
// limits, quotas, expiry, key group, enabled) and its label. Saving sends only the fields that
// changed (PATCH /admin/api/tokens/{id}); a refused field is marked and its message shown.
// Also the usage cell of the tokens table: bars of what was used against each limit.

import {patch} from './api.js';
import {t, lang} from './i18n.js';
import {h, openDialog, toast} from './ui.js';
import {fmtInt, toLocalInput, fromLocalInput} from './format.js';

const LIMITS = ['rpm', 'tpm', 'daily_tokens', 'monthly_tokens'];

/** The models list as the input shows it ("a, b*") and back (["a", "b*"]). */
export function modelsText(models) {
  return (models || []).join(', ');
}
export function parseModels(text) {
  return String(text || '').split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}

/**
 * The PATCH body for the edits of `it` (the token as listed), from the form's raw values:
 * only the fields that differ. Returns {ok: true, body} or {ok: false, field} when a limit is
 * not a whole number >= 0.
 */
export function tokenPatch(it, form) {
  const body = {};
  if ((form.label || '') !== (it.label || '')) body.label = form.label || '';
  const models = parseModels(form.models);
  if (models.join(',') !== (it.models || []).join(',')) body.models = models;
  for (const f of LIMITS) {
    const raw = String(form[f] ?? '').trim();
    const n = raw === '' ? 0 : Number(raw);
    if (!Number.isInteger(n) || n < 0) return {ok: false, field: f};
    if (n !== (it[f] || 0)) body[f] = n;
  }
  const expires = fromLocalInput(form.expires_at) || 0;
  if (expires !== (it.expires_at || 0)) body.expires_at = expires;
  if ((form.key_group || '') !== (it.key_group || '')) body.key_group = form.key_group || '';
  if (!!form.enabled !== (it.enabled !== false)) body.enabled = !!form.enabled;
  return {ok: true, body};
}

/** Opens the editor for token `it`; resolves to true when it was saved. */
export async function editToken(it) {
  const inputs = {};
  const errors = {};
  const row = (name, label, input, hint, wide = false) => {
    inputs[name] = input;
    errors[name] = h('p', {class: 'field-hint error-text', 'data-testid': `token-edit-error-${name}`});
    return h('label', {class: wide ? 'field field-wide' : 'field', 'data-field': name},
             h('span', {class: 'field-label'}, label), input,
             hint ? h('span', {class: 'field-hint'}, hint) : null, errors[name]);
  };
  const text = (name, value, extra = {}) =>
    h('input', {type: 'text', value: value ?? '', 'data-testid': `token-edit-${name}`, ...extra});
  const number = (name, value) =>
    h('input', {type: 'number', min: 0, step: 1, value: value ? String(value) : '',
                placeholder: t('tokens.no_limit'), 'data-testid': `token-edit-${name}`});
  const enabled = h('input', {type: 'checkbox', checked: it.enabled !== false,
                              'data-testid': 'token-edit-enabled'});
  const body = [
    row('label', t('col.label'), text('label', it.label, {maxlength: 100}), null, true),
    row('models', t('tokens.f_models'), text('models', modelsText(it.models),
                                            {placeholder: t('tokens.all_models')}),
        t('tokens.h_models'), true),
    row('rpm', t('tokens.f_rpm'), number('rpm', it.rpm)),
    row('tpm', t('tokens.f_tpm'), number('tpm', it.tpm)),
    row('daily_tokens', t('tokens.f_daily'), number('daily_tokens', it.daily_tokens), t('tokens.h_utc')),
    row('monthly_tokens', t('tokens.f_monthly'), number('monthly_tokens', it.monthly_tokens),
        t('tokens.h_utc')),
    row('expires_at', t('tokens.f_expires'),
        h('input', {type: 'datetime-local', value: toLocalInput(it.expires_at),
                    'data-testid': 'token-edit-expires_at'}), t('tokens.h_expires')),
    row('key_group', t('tokens.f_group'), text('key_group', it.key_group,
                                               {placeholder: t('tokens.all_keys')})),
    h('label', {class: 'field field-check field-wide'}, enabled, h('span', {}, t('tokens.f_enabled'))),
  ];
  let saved = false;
  const clearErrors = () => {
    for (const [name, p] of Object.entries(errors)) {
      p.textContent = '';
      p.closest('.field')?.classList.remove('has-error');
    }
  };
  const showError = (field, message) => {
    const p = errors[field];
    if (!p) return toast(t('action_failed', {msg: message}), 'error');
    p.textContent = message;
    p.closest('.field')?.classList.add('has-error');
  };
  const d = openDialog({
    title: t('tokens.edit_title', {label: it.label || it.masked}), testid: 'token-edit-dialog',
    cls: 'dialog-wide', body: [h('div', {class: 'token-form'}, body)],
    buttons: [
      {label: t('cancel'), testid: 'token-edit-cancel'},
      {label: t('tokens.save'), cls: 'btn-primary', testid: 'token-edit-save', onclick: async () => {
        clearErrors();
        const values = Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value]));
        values.enabled = enabled.checked;
        const p = tokenPatch(it, values);
        if (!p.ok) {
          showError(p.field, t('tokens.bad_limit'));
          return false;
        }
        if (!Object.keys(p.body).length) return true;
        try {
          await patch(`tokens/${encodeURIComponent(it.id)}`, p.body);
          saved = true;
          toast(t('tokens.saved'), 'ok');
          return true;
        } catch (e) {
          showError(e.field, e.message);
          return false;
        }
      }},
    ],
  });
  await d.closed;
  return saved;
}

/** One usage bar: `used` of `limit` (no bar without a limit, just the number). */
function bar(name, label, used, limit) {
  const l = lang();
  const text = limit ? `${fmtInt(used, l)} / ${fmtInt(limit, l)}` : fmtInt(used, l);
  return h('div', {class: 'usage-line', 'data-testid': `token-usage-${name}`},
           h('span', {class: 'usage-label'}, label),
           limit ? h('progress', {max: limit, value: Math.min(used, limit),
                                  class: used >= limit ? 'usage-full' : ''}) : h('span', {}),
           h('span', {class: 'usage-value'}, text));
}

/** The usage cell of a token: requests this minute, tokens this minute, today, this month. */
export function usageCell(it) {
  const u = it.usage || {};
  return h('div', {class: 'usage'},
           bar('rpm', t('tokens.u_minute_req'), u.minute?.requests || 0, it.rpm),
           bar('tpm', t('tokens.u_minute_tok'), u.minute?.tokens || 0, it.tpm),
           bar('daily', t('tokens.u_today'), u.today?.tokens || 0, it.daily_tokens),
           bar('monthly', t('tokens.u_month'), u.month?.tokens || 0, it.monthly_tokens));
}

/** The policy cell: allowed models, key group and badges for disabled / expired. */
export function policyCell(it) {
  const badges = [];
  if (it.enabled === false) badges.push(h('span', {class: 'badge badge-disabled'}, t('tokens.disabled')));
  if (it.expired) badges.push(h('span', {class: 'badge badge-disabled'}, t('tokens.expired')));
  return h('div', {class: 'policy', 'data-testid': 'token-policy'}, badges,
           h('div', {class: 'small'}, (it.models || []).length ? modelsText(it.models) : t('tokens.all_models')),
           it.key_group ? h('div', {class: 'small muted'}, `${t('tokens.f_group')}: ${it.key_group}`) : null);
}
