// The audit log: a filter applies as soon as it is chosen (text filters on
// Enter), the URL keeps only what is set, and a row opens to its payload.
// Keys: `/` to search, j and k from row to row (Enter opens one).

const form = document.getElementById('filters');
const DEFAULT_WINDOW = '24h';

function apply() {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (value === '' || (name === 'since' && value === DEFAULT_WINDOW)) continue;
    params.append(name, value);
  }
  const query = params.toString();
  location.assign(query ? `/?${query}` : '/');
}

form?.addEventListener('change', (event) => {
  if (event.target.matches('select[data-autosubmit]')) apply();
});
form?.addEventListener('submit', (event) => {
  event.preventDefault();
  apply();
});

document.getElementById('records')?.addEventListener('click', (event) => {
  const button = event.target.closest('button.expand');
  if (!button) return;
  const payload = document.getElementById(button.getAttribute('aria-controls'));
  const open = button.getAttribute('aria-expanded') !== 'true';
  button.setAttribute('aria-expanded', String(open));
  button.setAttribute('aria-label', open ? 'Hide the record' : 'Show the record');
  payload.hidden = !open;
});

document.addEventListener('keydown', (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest('input, select, textarea')) return;
  if (event.key === '/') {
    event.preventDefault();
    form?.elements.q?.focus();
    return;
  }
  if (event.key !== 'j' && event.key !== 'k') return;
  const rows = [...document.querySelectorAll('#records tr.record button.expand')];
  if (!rows.length) return;
  // From the row that holds the focus, whichever of its controls has it.
  const at = rows.indexOf(document.activeElement?.closest('tr.record')?.querySelector('button.expand'));
  const next = at < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, at + (event.key === 'j' ? 1 : -1)));
  rows[next].focus();
  rows[next].closest('tr').scrollIntoView({ block: 'nearest' });
});
