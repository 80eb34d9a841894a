// Alerts raised by the compliance rules: filter, page, resolve.

import { api, enc } from './api.js';
import { h, replace, showError, time } from './dom.js';

const form = document.getElementById('alert-filters');
const body = document.querySelector('#alerts tbody');
const more = document.getElementById('more');
const error = document.querySelector('main .error');
let cursor = null;

function row(alert) {
  return h('tr', { dataset: { id: alert.id } },
    h('td', {}, time(alert.created_at)),
    h('td', {}, h('span', { class: `badge ${alert.severity}` }, alert.severity)),
    h('td', {}, alert.rule_name || alert.rule_id, h('br'), h('code', {}, alert.detector)),
    h('td', {}, alert.path ? h('code', {}, alert.path) : null, ' ', alert.excerpt ?? ''),
    h('td', {}, h('a', { href: `/events/${enc(alert.event_id)}` }, `seq ${alert.seq}`),
      alert.run_id ? [' · ', h('a', { href: `/runs/${enc(alert.run_id)}` }, 'run')] : null),
    h('td', {}, alert.status, alert.resolved_by ? ` by ${alert.resolved_by}` : ''),
    h('td', {}, alert.status === 'open'
      ? h('button', { type: 'button', class: 'resolve', 'data-api': `POST /v1/alerts/${enc(alert.id)}/resolve`, 'data-stay': true }, 'Resolve')
      : null));
}

async function load(append) {
  const params = new URLSearchParams();
  for (const [k, v] of new FormData(form)) if (v) params.append(k, v);
  if (append && cursor) params.set('cursor', cursor);
  history.replaceState(null, '', `/alerts?${new URLSearchParams([...new FormData(form)])}`);
  try {
    const page = await api('GET', `/v1/alerts?${params}`);
    const rows = page.alerts.map(row);
    if (append) body.append(...rows);
    else replace(body, rows.length ? rows : h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No alerts match.')));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    showError(error, null);
  } catch (e) {
    showError(error, e);
  }
}

// Filters from the URL, so a view can be shared.
for (const [k, v] of new URLSearchParams(location.search)) {
  if (form.elements[k]) form.elements[k].value = v;
}
form.addEventListener('change', () => load(false));
form.addEventListener('submit', (e) => { e.preventDefault(); load(false); });
more.addEventListener('click', () => load(true));
document.addEventListener('api:done', () => load(false));
load(false);
