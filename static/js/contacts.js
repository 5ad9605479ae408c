// "Select all on this page" for the contact list's bulk actions.
document.addEventListener("DOMContentLoaded", () => {
  const all = document.getElementById("select-page");
  if (!all) return;
  const boxes = () => document.querySelectorAll('input[name="selected"]');
  all.addEventListener("change", () => boxes().forEach((box) => { box.checked = all.checked; }));
});

// On a phone the filter panel starts folded so the results come first.
document.addEventListener("DOMContentLoaded", () => {
  const panel = document.querySelector(".filter-panel");
  if (panel && window.matchMedia("(max-width: 800px)").matches && !panel.querySelector(".form-errors")) {
    panel.open = false;
  }
});
