// Small progressive enhancements; every page works without them. No inline scripts (the CSP forbids them).
document.addEventListener("DOMContentLoaded", () => {
  // Forms that change something important ask first.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  // The language picker applies itself when changed.
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  // A form sent back with mistakes puts the cursor in the first field to correct.
  const invalid = document.querySelector("main form [aria-invalid='true']");
  if (invalid) invalid.focus();
  // Print buttons (the registration receipt).
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.addEventListener("click", () => window.print());
  });
  // A new API token is selected when focused, ready to copy.
  document.querySelectorAll("input[data-select-on-focus]").forEach((input) => {
    input.addEventListener("focus", () => input.select());
  });
});
