// Small progressive enhancements; every page works without them. No inline scripts (the CSP forbids them).
document.addEventListener("DOMContentLoaded", () => {
  // Forms that change something important ask first.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  // Pickers that apply themselves when changed: the language, the filters of the search page.
  document.querySelectorAll("select[data-autosubmit], input[data-autosubmit]").forEach((control) => {
    control.addEventListener("change", () => {
      if (control.id) sessionStorage.setItem("docstore-refocus", control.id);
      control.form.submit();
    });
  });
  // The page that comes back puts the focus where it was (a keyboard user goes on from there).
  const refocus = sessionStorage.getItem("docstore-refocus");
  if (refocus) {
    sessionStorage.removeItem("docstore-refocus");
    const control = document.getElementById(refocus);
    if (control) control.focus();
  }
  // A form sent back with mistakes puts the cursor in the first field to correct; else the message of the step just
  // done, shown where the page lands (a document's routing panel), takes the focus, to be seen and read out.
  const invalid = document.querySelector("main form [aria-invalid='true']");
  const said = document.querySelector("[data-focus-on-load]");
  if (invalid) invalid.focus();
  else if (said) {
    // Chromium drops the focus when it scrolls to the address's #fragment, after this runs: take it back then,
    // unless the user has moved it meanwhile.
    const focusSaid = () => {
      if (document.activeElement === document.body || document.activeElement === said) said.focus();
    };
    focusSaid();
    window.addEventListener("load", () => requestAnimationFrame(focusSaid));
  }
  // Print buttons (the registration receipt).
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.addEventListener("click", () => window.print());
  });
  // The drafting form shows only the sections of the chosen directive type (all show without the script).
  const kind = document.querySelector("select[data-directive-kind]");
  if (kind) {
    const sections = document.querySelectorAll("[data-section-kinds]");
    const showSections = () => {
      sections.forEach((section) => {
        section.hidden = !section.dataset.sectionKinds.split(" ").includes(kind.value);
      });
    };
    kind.addEventListener("change", showSections);
    showSections();
  }
  // The body editor's toolbar: a heading, point or table marker at the start of the line the cursor is on.
  document.querySelectorAll("[data-editor-for]").forEach((toolbar) => {
    const area = document.getElementById(toolbar.dataset.editorFor);
    if (!area) return;
    toolbar.hidden = false;
    toolbar.querySelectorAll("button").forEach((button) => {
      button.addEventListener("click", () => {
        const text = area.value;
        const start = text.lastIndexOf("\n", area.selectionStart - 1) + 1;
        let insert;
        let at = start;
        if (button.dataset.linePrefix !== undefined) {
          const line = text.slice(start).replace(/^(#{1,4} |- )/, "");
          const rest = text.slice(start).length - line.length;
          insert = button.dataset.linePrefix;
          area.value = text.slice(0, start) + insert + text.slice(start + rest);
        } else {
          insert = (start === area.selectionStart ? "" : "\n") + button.dataset.insertBlock + "\n";
          at = area.selectionStart;
          area.value = text.slice(0, at) + insert + text.slice(at);
        }
        area.focus();
        area.setSelectionRange(at + insert.length, at + insert.length);
      });
    });
  });
  // A new API token is selected when focused, ready to copy.
  document.querySelectorAll("input[data-select-on-focus]").forEach((input) => {
    input.addEventListener("focus", () => input.select());
  });
});
