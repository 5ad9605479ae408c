// Behaviour templates ask for with data- attributes: the Content-Security-Policy refuses
// inline on…= handlers. Listening on the document also covers content htmx swaps in.

// <form data-confirm="Delete this note?">: ask before submitting.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// <select data-autosubmit>: submit its form as soon as a choice is made.
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field.form && "autosubmit" in field.dataset) {
    field.form.submit();
  }
});
