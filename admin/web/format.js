// Pure helpers of the admin page: number/time formatting, key-list parsing, query strings,
// settings diffs and input parsing. No DOM and no imports, so node can unit-test this file as is
// (tests/e2e/admin-web-helpers.test.mjs).

const DASH = '—';

/** Integer with grouping ("12,345"); DASH for null/undefined/NaN. */
export function fmtInt(n, lang = 'en') {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return DASH;
  return new Intl.NumberFormat(lang, {maximumFractionDigits: 0}).format(Number(n));
}

/** Short form for big counts ("1.2K", "3.4M"; Chinese uses 万/亿); exact below 10,000. */
export function fmtCompact(n, lang = 'en') {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return DASH;
  const v = Number(n);
  if (Math.abs(v) < 10000) return fmtInt(v, lang);
  return new Intl.NumberFormat(lang, {notation: 'compact', maximumFractionDigits: 1}).format(v);
}

/** "12.5%" of part/whole with one decimal; DASH when whole is 0. */
export function fmtPercent(part, whole) {
  if (!whole) return DASH;
  const p = (100 * part) / whole;
  return `${p >= 10 || p === 0 ? Math.round(p) : p.toFixed(1)}%`;
}

/** Absolute local date and time of Unix ms; DASH for 0/null ("never"). */
export function fmtTime(ms, lang = 'en') {
  if (!ms) return DASH;
  return new Intl.DateTimeFormat(lang, {
    year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  }).format(new Date(Number(ms)));
}

/** A moment soon after `now`: "22:45:06" within the next 20 hours, else the date and time. */
export function fmtSoon(ms, now = Date.now(), lang = 'en') {
  if (!ms) return DASH;
  const within = Number(ms) - now < 20 * 3600e3;
  return new Intl.DateTimeFormat(lang, {
    ...(within ? {} : {month: '2-digit', day: '2-digit'}),
    hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  }).format(new Date(Number(ms)));
}

/** Axis label of a chart bucket: time only for short windows, date + hour for long ones. */
export function fmtAxisTime(ms, windowMs, lang = 'en') {
  const d = new Date(Number(ms));
  if (windowMs <= 2 * 3600e3) {
    return new Intl.DateTimeFormat(lang, {hour: '2-digit', minute: '2-digit', hour12: false,
                                          ...(windowMs <= 120e3 ? {second: '2-digit'} : {})})
        .format(d);
  }
  if (windowMs <= 2 * 86400e3) {
    return new Intl.DateTimeFormat(lang, {hour: '2-digit', minute: '2-digit', hour12: false})
        .format(d);
  }
  return new Intl.DateTimeFormat(lang, {month: '2-digit', day: '2-digit'}).format(d);
}

/** "3 minutes ago" / "in 20 seconds" relative to now; DASH for 0/null. */
export function fmtRelative(ms, now = Date.now(), lang = 'en') {
  if (!ms) return DASH;
  const diff = (Number(ms) - now) / 1000;
  const abs = Math.abs(diff);
  const rtf = new Intl.RelativeTimeFormat(lang, {numeric: 'auto'});
  if (abs < 45) return rtf.format(Math.round(diff), 'second');
  if (abs < 45 * 60) return rtf.format(Math.round(diff / 60), 'minute');
  if (abs < 22 * 3600) return rtf.format(Math.round(diff / 3600), 'hour');
  return rtf.format(Math.round(diff / 86400), 'day');
}

/** Milliseconds as "850 ms" / "1.2 s" / "2 min 5 s". */
export function fmtDuration(ms) {
  if (ms === null || ms === undefined) return DASH;
  const v = Number(ms);
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 60000) return `${(v / 1000).toFixed(v < 10000 ? 2 : 1)} s`;
  const m = Math.floor(v / 60000);
  return `${m} min ${Math.round((v - m * 60000) / 1000)} s`;
}

/**
 * Splits pasted text into key candidates: any run of whitespace, commas or semicolons separates
 * them; empty pieces are dropped. Order is kept (indices map to the API's rejected_items).
 */
export function splitKeys(text) {
  return String(text || '').split(/[\s,;]+/u).filter((s) => s.length > 0);
}

/** Masks a secret the way the API does: first four … last four; short strings become "…". */
export function maskSecret(s) {
  const str = String(s || '');
  if (str.length <= 8) return '…';
  return `${str.slice(0, 4)}…${str.slice(-4)}`;
}

/** Splits an array into pieces of at most n elements. */
export function chunk(arr, n) {
  const out = [];
  for (let i = 0; i < arr.length; i += n) out.push(arr.slice(i, i + n));
  return out;
}

/** Number of pages for total rows at perPage per page (at least 1). */
export function pageCount(total, perPage) {
  return Math.max(1, Math.ceil(Number(total || 0) / Math.max(1, Number(perPage || 1))));
}

/** "?a=1&b=x" from an object, leaving out undefined, null and "" values; "" when empty. */
export function buildQuery(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** True when s is a log status filter the API accepts: a code ("429") or a class ("4xx"). */
export function isStatusFilter(s) {
  return /^[1-5]xx$/i.test(s) || /^[1-5]\d\d$/.test(s);
}

/** Returns fn delayed until `ms` passed without another call; `.cancel()` drops a pending call. */
export function debounce(fn, ms) {
  let timer = null;
  const d = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => { timer = null; fn(...args); }, ms);
  };
  d.cancel = () => { clearTimeout(timer); timer = null; };
  return d;
}

/** Unix ms → the value of an <input type="datetime-local"> in local time ("" for none). */
export function toLocalInput(ms) {
  if (!ms) return '';
  const d = new Date(Number(ms));
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${
      p(d.getMinutes())}`;
}

/** The value of an <input type="datetime-local"> → Unix ms (local time), or null. */
export function fromLocalInput(s) {
  if (!s) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(s);
  if (!m) return null;
  return new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0)).getTime();
}

/**
 * Parses what the user typed for a setting of `type` (int, bool, string, secret, json).
 * Returns {ok: true, value} or {ok: false, error: 'int' | 'json', detail?}. Range checks are
 * left to the server, whose message is shown next to the field.
 */
export function parseSettingInput(type, raw) {
  switch (type) {
    case 'int': {
      const s = String(raw).trim();
      if (!/^-?\d+$/.test(s)) return {ok: false, error: 'int'};
      const v = Number(s);
      if (!Number.isSafeInteger(v)) return {ok: false, error: 'int'};
      return {ok: true, value: v};
    }
    case 'bool':
      return {ok: true, value: raw === true || raw === 'true'};
    case 'json':
      try {
        return {ok: true, value: JSON.parse(String(raw))};
      } catch (e) {
        return {ok: false, error: 'json', detail: e.message};
      }
    default:
      return {ok: true, value: String(raw)};
  }
}

/** Deep equality of JSON values (object key order ignored). */
export function jsonEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual(a[k], b[k]));
}

/**
 * The PATCH body for the settings form: `items` as GET /admin/api/settings returned them and
 * `edits` = {name: {reset: true} | {value}} for the fields the user touched. Unchanged values
 * are left out; reset of a field that is not overridden is left out; a secret is only sent when
 * a new value was typed (or it is reset). Returns {} when nothing changed.
 */
export function settingsPatch(items, edits) {
  const patch = {};
  for (const item of items) {
    const e = edits[item.name];
    if (!e) continue;
    if (e.reset) {
      if (item.overridden) patch[item.name] = null;
      continue;
    }
    if (item.type === 'secret') {
      if (typeof e.value === 'string' && e.value !== '') patch[item.name] = e.value;
      continue;
    }
    if (!jsonEqual(e.value, item.value)) patch[item.name] = e.value;
  }
  return patch;
}
