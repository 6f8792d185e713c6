// Booking pages: a select marked data-autosubmit sends its form when changed (no inline
// handlers, which the Content-Security-Policy forbids). Without JavaScript the form's own
// button (in <noscript>) does the same.
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.dataset.autosubmit !== undefined) {
    target.form?.submit();
  }
});
