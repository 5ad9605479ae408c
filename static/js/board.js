// The stage board: move a card to another column by drag and drop or, with the card focused,
// the left and right arrow keys. Either way the card's own form (the menu without JavaScript)
// is posted, asking for JSON, and the card moves only once the server has said yes.
document.addEventListener("DOMContentLoaded", () => {
  const board = document.getElementById("board");
  if (!board) return;
  const status = document.getElementById("board-status");
  let dragged = null;

  const lists = () => Array.from(board.querySelectorAll(".board-cards"));
  const say = (text, isError) => {
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  };
  const adjustCount = (list, delta) => {
    const count = list.closest(".board-column").querySelector("[data-count]");
    const value = Number(count.dataset.count) + delta;
    count.dataset.count = String(value);
    count.textContent = value.toLocaleString("en-US");
  };

  const move = (card, target) => {
    const source = card.closest(".board-cards");
    if (!target || target === source || card.classList.contains("moving")) return;
    const form = card.querySelector("form.card-move");
    const hadFocus = document.activeElement === card;
    form.elements.stage.value = target.dataset.stage;
    card.classList.add("moving");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then((response) => response.json().then((data) => ({ ok: response.ok, data })))
      .then(({ ok, data }) => {
        if (!ok) throw new Error(data.error);
        target.prepend(card);
        if (data.moved) {
          adjustCount(source, -1);
          adjustCount(target, +1);
        }
        if (hadFocus) card.focus();
        say(data.message);
      })
      .catch((error) => {
        form.elements.stage.value = source.dataset.stage;
        const reason = error instanceof SyntaxError || !error.message ? "" : ` ${error.message}`;
        say(`The card was not moved.${reason || " Reload the board and try again."}`, true);
      })
      .finally(() => card.classList.remove("moving"));
  };

  board.addEventListener("dragstart", (event) => {
    dragged = event.target.closest(".board-card");
    if (!dragged) return;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.dataset.id);
    dragged.classList.add("dragging");
  });
  board.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    lists().forEach((list) => list.classList.remove("drop-target"));
  });
  board.addEventListener("dragover", (event) => {
    const column = event.target.closest(".board-column");
    if (!dragged || !column) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    lists().forEach((list) => list.classList.toggle("drop-target", column.contains(list)));
  });
  board.addEventListener("drop", (event) => {
    const column = event.target.closest(".board-column");
    if (!dragged || !column) return;
    event.preventDefault();
    move(dragged, column.querySelector(".board-cards"));
  });

  board.addEventListener("keydown", (event) => {
    const card = event.target;
    if (!card.classList || !card.classList.contains("board-card")) return;
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    event.preventDefault();
    const all = lists();
    const index = all.indexOf(card.closest(".board-cards")) + (event.key === "ArrowLeft" ? -1 : 1);
    if (index >= 0 && index < all.length) move(card, all[index]);
  });

  // A card moved into a column since the board loaded can come again with that column's next
  // page: keep the one already shown.
  board.addEventListener("htmx:load", (event) => {
    const card = event.detail.elt;
    if (card.classList && card.classList.contains("board-card")) {
      const shown = board.querySelectorAll(`#${CSS.escape(card.id)}`);
      if (shown.length > 1) card.remove();
    }
  });
});
