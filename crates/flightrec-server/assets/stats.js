// The rates page: a choice applies as soon as it is made.

const form = document.getElementById('stats-filters');
form?.addEventListener('change', (event) => {
  if (event.target.matches('select[data-autosubmit]')) form.requestSubmit();
});
