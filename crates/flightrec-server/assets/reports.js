// Reports: request one, watch it being built, download it. The list is
// `GET /v1/reports`, asked again every second while a report is pending.

import { api } from './api.js';
import { h, replace, showError, time } from './dom.js';

const form = document.getElementById('report-request');
const error = document.querySelector('main .error');
const body = document.querySelector('#reports tbody');
const status = document.getElementById('reports-status');
const POLL_MS = 1000;

const TYPES = {
  compliance_summary: 'Compliance summary',
  audit_trail: 'Audit trail',
  agent_activity: 'Agent activity',
};

function windowOf(job) {
  if (!job.from && !job.to) return 'the whole log';
  return [job.from ? time(job.from) : 'the beginning', ' to ', job.to ? time(job.to) : 'now'];
}

function basisOf(job) {
  const basis = job.basis;
  if (!basis) return job.error ?? '';
  const v = basis.verification ?? {};
  const checked = v.passed ? `verified ${v.records} records` : `verification failed: ${v.problem ?? 'see the report'}`;
  const cosigned = basis.checkpoint?.cosignatures ? `, ${basis.checkpoint.cosignatures} cosignatures` : '';
  return `checkpoint of ${basis.checkpoint?.size ?? '?'} records${cosigned}; ${checked}`;
}

function size(bytes) {
  if (bytes === null || bytes === undefined) return '';
  return bytes < 1024 ? `${bytes} B` : bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1048576).toFixed(1)} MB`;
}

function row(job) {
  return h('tr', { dataset: { id: job.id, status: job.status } },
    h('td', {}, time(job.createdAt)),
    h('td', {}, TYPES[job.type] ?? job.type, ' · ', job.format.toUpperCase()),
    h('td', {}, windowOf(job)),
    h('td', {}, h('span', { class: `badge report-${job.status}` }, job.status === 'pending' ? 'building…' : job.status)),
    h('td', {}, basisOf(job)),
    h('td', {}, job.requestedBy ?? ''),
    h('td', {}, job.download
      ? h('a', { href: job.download, download: '', class: 'download' }, `Download (${size(job.size)})`)
      : null));
}

let timer = null;

async function load() {
  clearTimeout(timer);
  try {
    const { reports } = await api('GET', '/v1/reports');
    replace(body, reports.map(row));
    const pending = reports.filter((r) => r.status === 'pending').length;
    status.textContent = reports.length === 0
      ? 'No reports yet.'
      : pending ? `${pending} being built…` : `${reports.length} report${reports.length === 1 ? '' : 's'}.`;
    if (pending) timer = setTimeout(load, POLL_MS);
  } catch (e) {
    status.textContent = '';
    showError(error, e);
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const submit = form.querySelector('[type=submit]');
  const data = new FormData(form);
  // datetime-local is the browser's local time; the API takes RFC 3339.
  const at = (name) => (data.get(name) ? new Date(data.get(name)).toISOString() : undefined);
  showError(error, null);
  submit.disabled = true;
  try {
    const job = await api('POST', '/v1/reports', { type: data.get('type'), format: data.get('format'), from: at('from'), to: at('to') });
    status.textContent = `Requested: ${TYPES[job.type] ?? job.type}, being built…`;
    await load();
  } catch (e) {
    showError(error, e);
  } finally {
    submit.disabled = false;
  }
});

load();
