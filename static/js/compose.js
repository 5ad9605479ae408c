// The composer: picking a template puts its text in the editor, where it can be changed. Text
// the member wrote is only replaced once they agree.
document.addEventListener("DOMContentLoaded", () => {
  const data = document.getElementById("template-bodies");
  const form = document.getElementById("compose-form");
  if (!data || !form) return;
  const bodies = JSON.parse(data.textContent);
  const picker = form.elements.template;
  const editor = form.elements.body;
  let inserted = "";
  picker.addEventListener("change", () => {
    const body = bodies[picker.value];
    if (body === undefined) return;
    const typed = editor.value.trim() && editor.value !== inserted;
    if (typed && !window.confirm("Replace the text you wrote with this template?")) return;
    editor.value = inserted = body;
    editor.dispatchEvent(new Event("input", { bubbles: true }));
  });
});
