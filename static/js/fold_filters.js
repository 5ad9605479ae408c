// On a phone the filter panel starts folded so the results come first. Loaded without defer
// right after the panel (templates/_filter_panel.html with fold_narrow), so that it folds
// before the first paint instead of moving the list up after it.
(() => {
  const panel = document.currentScript.previousElementSibling;
  if (panel && window.matchMedia("(max-width: 800px)").matches && !panel.querySelector(".form-errors")) {
    panel.open = false;
  }
})();
