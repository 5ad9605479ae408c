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

// htmx swaps in only 2xx answers by default; a fragment that answers 400, 403 or 409 says what
// is wrong (the composer's preview for another member's account, a contact row changed
// meanwhile): show it too.
document.addEventListener("htmx:beforeSwap", (event) => {
  if ([400, 403, 409].includes(event.detail.xhr.status)) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// The top bar's menus (<details>): Escape or a click elsewhere closes an open one.
function closeMenus(except) {
  document.querySelectorAll(".topbar details[open]").forEach((menu) => {
    if (menu !== except) menu.open = false;
  });
}
document.addEventListener("click", (event) => closeMenus(event.target.closest(".topbar details")));
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const open = event.target.closest && event.target.closest(".topbar details[open]");
  closeMenus();
  if (open) open.querySelector("summary").focus();
});
