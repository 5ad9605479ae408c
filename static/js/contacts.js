// The contact list's selection: "select all on this page", and the bulk bar's count (the bar
// itself appears through CSS as soon as a row is checked).
document.addEventListener("DOMContentLoaded", () => {
  // The tag suggestions of the bulk bar and the rows' tag fields: the names the filter's tag
  // picker already holds, so that the page reads the tags once.
  const suggestions = document.getElementById("tag-names");
  const tagPicker = document.querySelector('#filter-form select[name="tags"]');
  if (suggestions && tagPicker) {
    for (const option of tagPicker.options) {
      const name = document.createElement("option");
      name.value = option.textContent.trim();
      suggestions.append(name);
    }
  }

  const all = document.getElementById("select-page");
  const count = document.getElementById("bulk-count");
  const everything = document.getElementById("bulk-all");
  if (!all || !count) return;
  const boxes = () => document.querySelectorAll('input[name="selected"]');

  function say() {
    const checked = Array.from(boxes()).filter((box) => box.checked).length;
    count.textContent = everything.checked
      ? everything.parentElement.textContent.trim().replace(/^Select all/, "All")
      : `${checked} selected`;
  }

  all.addEventListener("change", () => {
    boxes().forEach((box) => { box.checked = all.checked; });
    say();
  });
  document.addEventListener("change", (event) => {
    if (event.target.name === "selected" || event.target === everything) say();
  });
  // A row swapped in by an inline edit comes unchecked.
  document.addEventListener("htmx:afterSwap", say);
  say();
});
