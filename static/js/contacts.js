// "Select all on this page" for the contact list's bulk actions.
document.addEventListener("DOMContentLoaded", () => {
  const all = document.getElementById("select-page");
  if (!all) return;
  const boxes = () => document.querySelectorAll('input[name="selected"]');
  all.addEventListener("change", () => boxes().forEach((box) => { box.checked = all.checked; }));
});
