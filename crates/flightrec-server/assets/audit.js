// The audit log: a filter applies as soon as it is chosen (text filters on
// Enter), the URL keeps only what is set, and a row opens to its payload.

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
