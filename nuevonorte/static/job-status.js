// The draft-transcript card: while its job waits or runs, ask the archive how far it got every
// three seconds and say it (the status is a polite live region); once the job has ended, load the
// page again to show the draft or why there is none. Without JavaScript the card has a link to
// check again. (A <meta refresh> would reload under a curator's hands: WCAG 2.2.1.)
(function () {
  "use strict";
  var status = document.querySelector("[data-job-status]");
  if (!status) {
    return;
  }
  var text = status.querySelector("[data-job-text]");
  var bar = status.querySelector("progress");
  function ask() {
    fetch(status.getAttribute("data-job-status"), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (job) {
        if (!job) {
          window.setTimeout(ask, 10000); // signed out, or the archive busy: ask again later
          return;
        }
        if (!job.active) {
          window.location.reload();
          return;
        }
        text.textContent = job.label;
        if (bar) {
          bar.value = job.progress;
          bar.textContent = job.progress + " %";
        }
        window.setTimeout(ask, 3000);
      })
      .catch(function () {
        window.setTimeout(ask, 10000);
      });
  }
  window.setTimeout(ask, 3000);
})();
