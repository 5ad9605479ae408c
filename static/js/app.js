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

// htmx swaps in only 2xx answers by default; a fragment that answers 400 or 403 says what is
// wrong (the composer's preview for another member's account): show it too.
document.addEventListener("htmx:beforeSwap", (event) => {
  if ([400, 403].includes(event.detail.xhr.status)) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
