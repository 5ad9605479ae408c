// Searchable chips for the filter panel's multiple choices (tags, stages, networks): the
// <select multiple> stays in the form, hidden, and carries the values; the member types to
// find a choice and sees the chosen ones as chips with a remove button. Without this script
// the plain multi-select shows and works.
function chipPicker(select) {
  const label = document.querySelector(`label[for="${select.id}"]`);
  const box = document.createElement("div");
  box.className = "chip-picker";
  const chosen = document.createElement("ul");
  chosen.className = "chip-list";
  const search = document.createElement("input");
  search.type = "search";
  search.autocomplete = "off";
  search.placeholder = "Type to find…";
  search.id = `${select.id}-search`;
  search.setAttribute("list", `${select.id}-options`);
  const options = document.createElement("datalist");
  options.id = `${select.id}-options`;
  if (label) label.htmlFor = search.id;

  function draw() {
    chosen.replaceChildren();
    options.replaceChildren();
    for (const option of select.options) {
      if (option.selected) {
        const item = document.createElement("li");
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "chip chip-remove";
        remove.textContent = option.text;
        remove.setAttribute("aria-label", `Remove ${option.text}`);
        remove.addEventListener("click", () => {
          option.selected = false;
          draw();
          search.focus();
        });
        item.append(remove);
        chosen.append(item);
      } else {
        options.append(new Option(option.text));
      }
    }
  }

  function pick() {
    const typed = search.value.trim().toLowerCase();
    const match = Array.from(select.options).find((o) => o.text.toLowerCase() === typed);
    if (!match) return false;
    match.selected = true;
    search.value = "";
    draw();
    return true;
  }

  search.addEventListener("input", pick);
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && search.value.trim()) {
      // Enter takes the choice typed (or the only one matching) instead of applying the form.
      event.preventDefault();
      if (!pick()) {
        const typed = search.value.trim().toLowerCase();
        const found = Array.from(select.options).filter((o) => !o.selected && o.text.toLowerCase().includes(typed));
        if (found.length === 1) {
          search.value = found[0].text;
          pick();
        }
      }
    }
  });

  select.hidden = true;
  select.after(box);
  box.append(chosen, search, options);
  draw();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("select[multiple][data-chips]").forEach(chipPicker);
});
