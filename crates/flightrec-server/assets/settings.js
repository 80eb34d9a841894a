// Settings: API keys, agents, compliance packs and rules, webhooks,
// retention and erasure, and people, each listed from the API; creating and
// removing goes through the forms and buttons of forms.js, after which the
// lists are read again.

import { api, enc } from './api.js';
import { h, replace, showError, time } from './dom.js';

const canManage = Boolean(document.querySelector('form[data-api]'));

const button = (label, call, confirm, body) =>
  canManage ? h('button', { type: 'button', 'data-api': call, 'data-confirm': confirm, 'data-body': body, 'data-stay': true }, label) : null;

const ROLES = ['member', 'auditor', 'admin', 'owner'];

/// A person's role: a select that changes it, for those who may.
function roleControl(user) {
  if (!canManage) return user.role;
  const select = h('select', { 'aria-label': `Role of ${user.email}` },
    ROLES.map((role) => h('option', { value: role, selected: role === user.role }, role)));
  select.addEventListener('change', async () => {
    try {
      await api('PATCH', `/v1/users/${enc(user.id)}`, { role: select.value });
    } catch (e) {
      select.value = user.role;
      window.alert(e.message);
    }
    load('users');
  });
  return select;
}

const lists = {
  keys: ['/v1/auth/api-keys', 'api_keys', (k) => h('tr', { dataset: { id: k.id } },
    h('td', {}, k.name), h('td', {}, h('code', {}, k.prefix)), h('td', {}, k.scopes.join(', ')),
    h('td', {}, k.agent_id ?? ''), h('td', {}, time(k.created_at)), h('td', {}, k.last_used_at ? time(k.last_used_at) : 'never'),
    h('td', {}, k.revoked_at ? 'revoked' : 'active'),
    h('td', {}, k.revoked_at ? null : button('Revoke', `DELETE /v1/auth/api-keys/${enc(k.id)}`, `Revoke the key “${k.name}”? Anything using it stops at once.`)))],
  agents: ['/v1/agents', 'agents', (a) => h('tr', {},
    h('td', {}, a.name), h('td', {}, h('code', {}, a.id)), h('td', {}, time(a.createdAt)))],
  packs: ['/v1/compliance-rules/packs', 'packs', (p) => h('tr', {},
    h('td', {}, h('strong', {}, p.name)), h('td', {}, p.description, ` (${p.rules.length} rules)`),
    h('td', {}, button('Install', 'POST /v1/compliance-rules/packs', null, JSON.stringify({ packId: p.id }))))],
  rules: ['/v1/compliance-rules', 'rules', (r) => h('tr', {},
    h('td', {}, r.name ?? r.id), h('td', {}, r.pack ?? 'custom'), h('td', {}, h('span', { class: `badge ${r.severity}` }, r.severity)),
    h('td', {}, h('code', {}, r.detector === 'regex' ? r.pattern : r.detector)), h('td', {}, r.action),
    h('td', {}, button('Delete', `DELETE /v1/compliance-rules/${enc(r.id)}`, `Delete the rule “${r.name ?? r.id}”?`)))],
  webhooks: ['/v1/webhooks', 'webhooks', (w) => h('tr', {},
    h('td', {}, h('code', {}, w.url)), h('td', {}, w.events.join(', ')), h('td', {}, time(w.created_at)),
    h('td', {}, button('Delete', `DELETE /v1/webhooks/${enc(w.id)}`, `Stop sending to ${w.url}?`)))],
  erasures: ['/v1/erasures', 'erasures', (e) => h('tr', { dataset: { id: e.id } },
    h('td', {}, time(e.createdAt)), h('td', {}, e.subjectKind), h('td', {}, e.reason),
    h('td', {}, e.status), h('td', {}, String(e.erased)), h('td', {}, e.finishedAt ? time(e.finishedAt) : ''))],
  users: ['/v1/users', 'users', (u) => h('tr', {},
    h('td', {}, u.email), h('td', {}, u.name ?? ''), h('td', {}, roleControl(u)), h('td', {}, time(u.created_at)),
    h('td', {}, button('Remove', `DELETE /v1/users/${enc(u.id)}`, `Remove ${u.email}? They are signed out at once.`)))],
};

async function load(name) {
  const [path, field, row] = lists[name];
  const body = document.querySelector(`tbody[data-list="${name}"]`);
  const columns = body.closest('table').querySelectorAll('th').length;
  const note = (text, cls) => h('tr', {}, h('td', { colspan: columns, class: cls }, text));
  try {
    const items = (await api('GET', path))[field];
    replace(body, items.length ? items.map(row) : note('None yet.', 'empty'));
  } catch (e) {
    replace(body, note(e.status === 403 ? 'Only admins and owners can see these.' : e.message, 'note'));
  }
}

/// The tenant's retention as it stands, in words and in the form.
async function loadLifecycle() {
  const now = document.getElementById('lifecycle-now');
  try {
    const s = await api('GET', '/v1/settings');
    const kept = s.audit_log_retention ? `Bodies are kept for ${s.audit_log_retention}, then erased (headers and proofs stay).` : 'Bodies are kept for ever.';
    now.textContent = s.immutable_audit_logs ? `Immutable: nothing is ever erased. ${s.audit_log_retention ? `(Retention ${s.audit_log_retention} does nothing.)` : ''}` : kept;
    const form = document.getElementById('retention');
    if (!form) return;
    const retention = form.elements.auditLogRetention;
    retention.value = retention.defaultValue = s.audit_log_retention ?? '';
    const immutable = form.elements.immutableAuditLogs;
    immutable.checked = immutable.defaultChecked = Boolean(s.immutable_audit_logs);
    // Once on, it stays on; nor may retention change.
    immutable.disabled = retention.disabled = Boolean(s.immutable_audit_logs);
  } catch (e) {
    now.textContent = e.message;
  }
}

/// Whether this tenant encrypts at rest, in words and in the form.
async function loadEncryption() {
  const now = document.getElementById('encryption-now');
  try {
    const s = await api('GET', '/v1/settings');
    now.textContent = s.audit_log_encryption
      ? 'Bodies recorded from now on are encrypted (AES-256-GCM, under a data key of this organisation\'s own). Search still finds them, through keyed hashes of their words. Destroying the keys makes every encrypted body unreadable for good; the log and its proofs stay.'
      : 'Bodies are stored without encryption of their own (the disk\'s aside).';
    const form = document.getElementById('encryption-setting');
    if (!form) return;
    const on = form.elements.auditLogEncryption;
    on.checked = on.defaultChecked = Boolean(s.audit_log_encryption);
  } catch (e) {
    now.textContent = e.message;
  }
}

/// Whether the log is public, in words and in the form.
async function loadPublicLog() {
  const now = document.getElementById('public-log-now');
  try {
    const s = await api('GET', '/v1/settings');
    const tenant = encodeURIComponent(now.dataset.tenant);
    now.textContent = s.public_log
      ? `Public: anyone may follow this log at /logs/${tenant}/checkpoint and its tiles, without a key.`
      : 'Private: reading the log takes a key or a session.';
    const form = document.getElementById('public-log-setting');
    if (!form) return;
    const on = form.elements.publicLog;
    on.checked = on.defaultChecked = Boolean(s.public_log);
  } catch (e) {
    now.textContent = e.message;
  }
}

// Crypto-shredding cannot be undone: asked once more.
document.getElementById('shred')?.addEventListener('submit', (event) => {
  const question = 'Destroy every data key of this organisation? Every encrypted body becomes unreadable, for good.';
  if (!window.confirm(question)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

// An erasure names its subject by kind: `{subject: {actor: "…"}, reason}`.
document.getElementById('erasure')?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const { kind, value, reason } = form.elements;
  const subject = kind.value === 'event_ids' ? value.value.split(/[\s,]+/).filter(Boolean) : value.value.trim();
  const question = `Erase the bodies of every record of this ${kind.selectedOptions[0].text}? This cannot be undone.`;
  if (!window.confirm(question)) return;
  const error = form.querySelector('.error');
  showError(error, null);
  try {
    const job = await api('POST', '/v1/erasures', { subject: { [kind.value]: subject }, reason: reason.value });
    form.reset();
    load('erasures');
    // It runs in the background: show it done when it is.
    for (let i = 0; i < 120; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      if ((await api('GET', `/v1/erasures/${enc(job.id)}`)).status === 'done') break;
    }
    load('erasures');
  } catch (e) {
    showError(error, e);
  }
});

const loadAll = () => {
  Object.keys(lists).forEach(load);
  loadLifecycle();
  loadPublicLog();
  loadEncryption();
};
document.addEventListener('api:done', loadAll);
loadAll();
