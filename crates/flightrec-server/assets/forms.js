// Forms and buttons that call the API: `data-api="METHOD /path"` on a form
// sends its fields as JSON; on a button, just the call. Afterwards the page
// goes to `data-then`, shows the field named by `data-reveal` (a secret
// shown once), or reloads. Loaded on every page.

import { api } from './api.js';
import { showError } from './dom.js';

function fields(form) {
  const body = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === 'checkbox' && el.hasAttribute('data-list')) {
      body[el.name] ??= [];
      if (el.checked) body[el.name].push(el.value);
    } else if (el.type === 'checkbox') {
      body[el.name] = el.checked;
    } else if (el.value !== '') {
      body[el.name] = el.value;
    }
  }
  return body;
}

function reveal(label, value) {
  const box = document.getElementById('secret');
  if (!box || !value) return;
  document.getElementById('secret-label').textContent = label;
  document.getElementById('secret-value').textContent = value;
  box.hidden = false;
  box.scrollIntoView({ block: 'nearest' });
}

function after(el, result) {
  el.dispatchEvent(new CustomEvent('api:done', { detail: result, bubbles: true }));
  if (el.dataset.reveal) reveal(el.dataset.revealLabel, result && result[el.dataset.reveal]);
  else if (el.dataset.then) location.assign(el.dataset.then);
  else if (!el.hasAttribute('data-stay')) location.reload();
}

document.addEventListener('submit', async (event) => {
  const form = event.target.closest('form[data-api]');
  if (!form) return;
  event.preventDefault();
  const [method, path] = form.dataset.api.split(' ');
  const error = form.querySelector('.error');
  const submit = form.querySelector('[type=submit]');
  showError(error, null);
  if (submit) submit.disabled = true;
  try {
    after(form, await api(method, path, fields(form)));
    if (form.dataset.reveal || form.hasAttribute('data-stay')) form.reset();
  } catch (e) {
    showError(error, e);
  } finally {
    if (submit) submit.disabled = false;
  }
});

document.addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-api]');
  if (!button) return;
  if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
  const [method, path] = button.dataset.api.split(' ');
  button.disabled = true;
  try {
    const body = button.dataset.body ? JSON.parse(button.dataset.body) : undefined;
    after(button, await api(method, path, body));
    button.disabled = false;
  } catch (e) {
    button.disabled = false;
    // Said where the button is: its section's alert line, else a dialog.
    const error = button.closest('section, main')?.querySelector('.error');
    if (error) showError(error, e);
    else window.alert(e.message);
  }
});
