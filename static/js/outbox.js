// "Copy and open": the text goes to the clipboard and the profile opens in a new tab.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".copy-open").forEach((button) => {
    button.addEventListener("click", async () => {
      const text = document.getElementById(button.dataset.bodyId).value;
      try { await navigator.clipboard.writeText(text); button.textContent = "Copied — profile opened"; }
      catch (error) { button.textContent = "Copy the text by hand"; }
      window.open(button.dataset.profile, "_blank", "noopener");
    });
  });
});
