// Dashboard view: key counts by status, requests/failures/tokens over 1 min, 1 h and 24 h, a
// chart of the chosen window (GET /admin/api/stats?window=) and its top keys and models.
// Refreshes itself every 15 s while shown.

import {get} from './api.js';
import {t, lang} from './i18n.js';
import {h, toast} from './ui.js';
import {drawChart} from './chart.js';
import {fmtInt, fmtCompact, fmtPercent, fmtTime, fmtAxisTime} from './format.js';

const WINDOWS = ['1m', '1h', '24h'];
const CHART_WINDOWS = ['1m', '1h', '24h', '30d'];
const WINDOW_MS = {'1m': 60e3, '1h': 3600e3, '24h': 86400e3, '30d': 30 * 86400e3};
const REFRESH_MS = 15000;

/** Mounts the view into root; returns its cleanup function. */
export function mount(root, {navigate}) {
  const state = {chartWindow: '1h', topBy: 'requests', stats: {}, timer: null, alive: true};
  const keyCards = h('div', {class: 'cards cards-4', 'data-testid': 'key-counts'});
  const windowCards = h('div', {class: 'cards cards-3', 'data-testid': 'window-totals'});
  const tabs = h('div', {class: 'tabs', role: 'tablist'});
  const chartReq = h('div', {class: 'chart-box', 'data-testid': 'chart-requests'});
  const chartTok = h('div', {class: 'chart-box', 'data-testid': 'chart-tokens'});
  const topKeys = h('tbody');
  const topByTabs = h('div', {class: 'tabs tabs-small', role: 'tablist'});
  const topModels = h('tbody');
  const updated = h('span', {class: 'muted small', 'data-testid': 'updated-at'});
  const auto = h('input', {type: 'checkbox', checked: true, 'data-testid': 'auto-refresh'});

  root.append(
      h('div', {class: 'view-head'},
        h('h1', {}, t('nav.dashboard')),
        h('div', {class: 'view-actions'}, updated,
          h('label', {class: 'check'}, auto, t('auto_refresh')),
          h('button', {type: 'button', class: 'btn', 'data-testid': 'dashboard-refresh',
                       onclick: () => load()}, t('refresh')))),
      h('section', {class: 'panel'}, h('h2', {}, t('dash.keys')), keyCards),
      h('section', {class: 'panel'}, h('h2', {}, t('dash.traffic')), windowCards),
      h('section', {class: 'panel'},
        h('div', {class: 'panel-head'}, h('h2', {}, t('dash.charts')), tabs),
        h('div', {class: 'chart-grid'},
          h('figure', {class: 'chart-fig'},
            h('figcaption', {}, t('dash.chart_requests'),
              h('span', {class: 'legend'},
                h('span', {class: 'legend-item ok'}, t('dash.succeeded')),
                h('span', {class: 'legend-item bad'}, t('dash.failures')))),
            chartReq),
          h('figure', {class: 'chart-fig'}, h('figcaption', {}, t('dash.chart_tokens')), chartTok))),
      h('div', {class: 'two-col'},
        h('section', {class: 'panel'},
          h('div', {class: 'panel-head'}, h('h2', {}, t('dash.top_keys')), topByTabs),
          h('table', {class: 'table', 'data-testid': 'top-keys'},
            h('thead', {}, h('tr', {}, h('th', {}, t('col.key')), h('th', {class: 'num'}, t('col.requests')),
                              h('th', {class: 'num'}, t('col.failures')), h('th', {class: 'num'}, t('col.tokens')))),
            topKeys)),
        h('section', {class: 'panel'}, h('h2', {}, t('dash.top_models')),
          h('table', {class: 'table', 'data-testid': 'top-models'},
            h('thead', {}, h('tr', {}, h('th', {}, t('col.model')), h('th', {class: 'num'}, t('col.requests')),
                              h('th', {class: 'num'}, t('col.failures')), h('th', {class: 'num'}, t('col.tokens')))),
            topModels))));

  function renderKeyCards(k = {}) {
    const card = (status, cls) => h('button', {
      type: 'button', class: `card card-link ${cls}`, 'data-testid': `count-${status}`,
      onclick: () => navigate('keys', status === 'all' ? {} : {status}),
    }, h('span', {class: 'card-label'}, t(status === 'all' ? 'dash.keys_total' : `status.${status}`)),
      h('span', {class: 'card-value'}, fmtInt(k[status] ?? 0, lang())));
    keyCards.replaceChildren(card('all', ''), card('active', 'ok'), card('cooling', 'warn'),
                             card('disabled', 'bad'));
  }

  function renderWindowCards() {
    windowCards.replaceChildren(...WINDOWS.map((w) => {
      const s = state.stats[w];
      const tot = s ? s.totals : null;
      const metric = (label, value, cls = '', testid) => h('div', {class: `metric ${cls}`, 'data-testid': testid},
                                                    h('span', {class: 'metric-label'}, label),
                                                    h('span', {class: 'metric-value'}, value));
      return h('button', {type: 'button', class: `card card-link window-card${state.chartWindow === w ? ' selected' : ''}`,
                          'data-testid': `window-${w}`, onclick: () => selectWindow(w)},
               h('span', {class: 'card-label'}, t(`window.${w}`)),
               h('div', {class: 'metrics'},
                 metric(t('col.requests'), tot ? fmtInt(tot.requests, lang()) : '…', '', `w-${w}-requests`),
                 metric(t('col.failures'), tot ? `${fmtInt(tot.failures, lang())} (${fmtPercent(tot.failures, tot.requests)})` : '…',
                        tot && tot.failures ? 'bad' : '', `w-${w}-failures`),
                 metric(t('col.tokens'), tot ? fmtCompact(tot.total_tokens, lang()) : '…', '', `w-${w}-tokens`)));
    }));
  }

  function renderTabs() {
    tabs.replaceChildren(...CHART_WINDOWS.map((w) => h('button', {
      type: 'button', role: 'tab', class: `tab${state.chartWindow === w ? ' active' : ''}`,
      'aria-selected': state.chartWindow === w ? 'true' : 'false', 'data-testid': `chart-tab-${w}`,
      onclick: () => selectWindow(w),
    }, t(`window.${w}`))));
  }

  function renderChart() {
    const s = state.stats[state.chartWindow];
    if (!s) {
      chartReq.replaceChildren(h('p', {class: 'muted'}, t('loading')));
      chartTok.replaceChildren();
      return;
    }
    const winMs = WINDOW_MS[state.chartWindow];
    const points = (s.series || []).map((p) => ({t: p.t, ok: Math.max(0, p.requests - p.failures),
                                                 failures: p.failures, tokens: p.tokens}));
    const fmtX = (ms) => fmtAxisTime(ms, winMs, lang());
    drawChart(chartReq, {points, kind: 'stack', fmtX, fmtY: (v) => fmtCompact(v, lang()),
                         ariaLabel: t('dash.chart_requests'),
                         series: [{key: 'ok', label: t('dash.succeeded'), cls: 'ok'},
                                  {key: 'failures', label: t('dash.failures'), cls: 'bad'}]});
    drawChart(chartTok, {points, kind: 'line', fmtX, fmtY: (v) => fmtCompact(v, lang()),
                         ariaLabel: t('dash.chart_tokens'),
                         series: [{key: 'tokens', label: t('col.tokens'), cls: 'tok'}]});
    const row = (cells) => h('tr', {}, cells);
    const num = (v) => h('td', {class: 'num'}, fmtInt(v, lang()));
    topByTabs.replaceChildren(...['requests', 'failures'].map((by) => h('button', {
      type: 'button', role: 'tab', class: `tab${state.topBy === by ? ' active' : ''}`,
      'aria-selected': state.topBy === by ? 'true' : 'false', 'data-testid': `top-by-${by}`,
      onclick: () => { state.topBy = by; renderChart(); },
    }, t(`dash.by_${by}`))));
    const byKey = (s.by_key || []).slice().sort((a, b) => b[state.topBy] - a[state.topBy] || b.requests - a.requests)
        .filter((k) => state.topBy !== 'failures' || k.failures > 0);
    const keysRows = byKey.slice(0, 10).map((k) => row([
      h('td', {}, h('a', {href: `#/logs?key=${encodeURIComponent(k.key_id)}`, title: t('dash.show_logs')},
                    h('code', {}, k.masked || `#${k.key_id}`)), h('span', {class: 'muted small'}, ` #${k.key_id}`)),
      num(k.requests), num(k.failures), num(k.total_tokens)]));
    topKeys.replaceChildren(...(keysRows.length ? keysRows
        : [h('tr', {class: 'empty-row'},
             h('td', {colspan: 4}, t(state.topBy === 'failures' ? 'dash.no_failures' : 'dash.no_traffic')))]));
    // Requests that named no model (model lists) are in the totals, not a row of their own.
    const modelRows = (s.by_model || []).filter((m) => m.model).slice(0, 10).map((m) => row([
      h('td', {}, h('a', {href: `#/logs?model=${encodeURIComponent(m.model)}`}, m.model)),
      num(m.requests), num(m.failures), num(m.total_tokens)]));
    topModels.replaceChildren(...(modelRows.length ? modelRows
        : [h('tr', {class: 'empty-row'}, h('td', {colspan: 4}, t('dash.no_traffic')))]));
  }

  function selectWindow(w) {
    state.chartWindow = w;
    renderTabs();
    renderWindowCards();
    if (!state.stats[w]) load([w]); else renderChart();
  }

  async function load(only) {
    const wanted = only || [...new Set([...WINDOWS, state.chartWindow])];
    try {
      const results = await Promise.all(wanted.map((w) => get('stats', {window: w})));
      if (!state.alive) return;
      wanted.forEach((w, i) => { state.stats[w] = results[i]; });
      renderKeyCards(results[0].keys);
      renderWindowCards();
      renderChart();
      updated.textContent = t('updated_at', {time: fmtTime(Date.now(), lang())});
      root.dataset.loaded = 'true';
    } catch (e) {
      if (state.alive) toast(t('load_failed', {msg: e.message}), 'error');
    }
  }

  function schedule() {
    clearTimeout(state.timer);
    state.timer = setTimeout(async () => {
      if (auto.checked && !document.hidden) await load();
      if (state.alive) schedule();
    }, REFRESH_MS);
  }

  renderKeyCards();
  renderWindowCards();
  renderTabs();
  renderChart();
  load();
  schedule();
  return () => { state.alive = false; clearTimeout(state.timer); };
}
