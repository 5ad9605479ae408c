// The Outbox, made to work through many messages (keys listed on the page and in
// docs/features.md): one message in focus, the others folded around it. Without this script
// every message shows unfolded and every button still works.

// "Copy and open": the text on screen goes to the clipboard and the profile opens in a new tab.
async function copyAndOpen(button) {
  const box = document.getElementById(button.dataset.bodyId);
  try {
    await navigator.clipboard.writeText(box.value);
    button.textContent = "Copied — profile opened";
  } catch (error) {
    button.textContent = "Copy the text by hand";
    box.select();
  }
  window.open(button.dataset.profile, "_blank", "noopener");
  // Next comes "I sent it": Enter or s.
  const sent = button.closest("form").querySelector('[data-outbox-action="s"]');
  if (sent) sent.focus();
}

document.addEventListener("DOMContentLoaded", () => {
  const outbox = document.getElementById("outbox");
  if (!outbox) return;
  const items = Array.from(outbox.querySelectorAll(".outbox-item"));
  const position = document.getElementById("outbox-position");
  let current = null;

  function focusOn(item, { scroll = true } = {}) {
    if (!item) return;
    if (current) current.classList.remove("current");
    current = item;
    current.classList.add("current");
    const index = items.indexOf(current);
    const progress = current.closest("[data-progress]").dataset.progress;
    if (position) position.textContent = `Message ${index + 1} of ${items.length} · ${progress}`;
    if (scroll) current.scrollIntoView({ block: "start" });
    current.focus({ preventScroll: true });
  }

  function step(by) {
    const index = items.indexOf(current) + by;
    if (index >= 0 && index < items.length) focusOn(items[index]);
  }

  function act(key) {
    if (!current) return;
    if (key === "e") {
      const box = current.querySelector("textarea");
      box.focus();
      box.setSelectionRange(box.value.length, box.value.length);
      return;
    }
    const button = current.querySelector(`[data-outbox-action="${key}"]`);
    if (!button) return;
    if (key === "c") copyAndOpen(button);
    else button.click();
  }

  outbox.classList.add("focus-mode");
  const fromHash = window.location.hash && document.getElementById(window.location.hash.slice(1));
  const start = outbox.querySelector(".outbox-item.current") || (items.includes(fromHash) ? fromHash : items[0]);
  focusOn(start, { scroll: start !== items[0] });
  // A refused text (too long, empty) waits in its box for the member to fix it.
  const refused = outbox.querySelector(".outbox-item.current [aria-invalid]");
  if (refused) refused.focus();

  document.querySelectorAll("[data-outbox-key]").forEach((button) => {
    button.addEventListener("click", () => step(button.dataset.outboxKey === "j" ? 1 : -1));
  });

  outbox.addEventListener("click", (event) => {
    const item = event.target.closest(".outbox-item");
    if (item && item !== current && !event.target.closest("a")) focusOn(item, { scroll: false });
    const copy = event.target.closest(".copy-open");
    if (copy) copyAndOpen(copy);
  });

  // An edit not saved yet is what "I sent it" records: say so next to the buttons.
  outbox.addEventListener("input", (event) => {
    const box = event.target;
    if (box.tagName !== "TEXTAREA") return;
    const note = box.form.querySelector(".unsaved-note");
    note.hidden = box.value === box.defaultValue;
  });

  // After an action the page comes back with the following message in focus.
  outbox.addEventListener("submit", (event) => {
    const form = event.target;
    const index = items.indexOf(form.closest(".outbox-item"));
    const following = items[index + 1] || items[index - 1];
    form.elements.next.value = following ? following.id.replace("message-", "") : "";
  });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = event.target.closest("textarea, input, select, [contenteditable]");
    if (typing) {
      if (event.key === "Escape" && current && current.contains(event.target)) {
        event.target.blur();
        current.focus({ preventScroll: true });
      }
      return;
    }
    const keys = { j: 1, ArrowDown: 1, k: -1, ArrowUp: -1 };
    if (event.key in keys) {
      event.preventDefault();
      step(keys[event.key]);
    } else if (["c", "s", "x", "e"].includes(event.key)) {
      event.preventDefault();
      act(event.key);
    }
  });
});
