// The progress of a year's filing that runs in the background: the page asks how far it has got every second, and
// reloads itself to show the result once it is over. Without this script, the page's Reload link does the same.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector("[data-filing-progress]");
  if (!box) return;
  const bar = box.querySelector("progress");
  const text = box.querySelector("[data-progress-text]");
  const poll = async () => {
    try {
      const response = await fetch(box.dataset.filingProgress, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const job = await response.json();
        if (job.finished) {
          window.location.reload();
          return;
        }
        bar.max = Math.max(job.total, 1);
        bar.value = job.done;
        text.textContent = job.text;
      }
    } catch (error) {
      // The server may be restarting: ask again in a moment.
    }
    window.setTimeout(poll, 1000);
  };
  window.setTimeout(poll, 1000);
});
