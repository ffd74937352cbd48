/* Proof of work for forms whose kind is under pressure (docs/decisions/0008).
 * When the archive gets more sign-ins or stories than its caps at once, the server puts a
 * challenge in the form: find the number n below data-work such that SHA-256(salt + n) is
 * data-target. This script tries 0, 1, 2, … in short slices (the page stays responsive) as
 * soon as the page opens, and puts n in the form; the server checks it with one hash. If the
 * form is sent before the answer is found, sending waits for it and then goes on by itself.
 * Without JavaScript nothing happens here and the server asks the person to wait a minute.
 * SHA-256 is js-sha256 (vendor/sha256.js, MIT). No inline script (CSP). */
(function () {
  "use strict";

  var SLICE_MS = 40;

  function solve(box, found) {
    var salt = box.getAttribute("data-salt");
    var target = box.getAttribute("data-target");
    var work = parseInt(box.getAttribute("data-work"), 10);
    var n = 0;
    function slice() {
      var until = Date.now() + SLICE_MS;
      while (n < work) {
        if (window.sha256(salt + n) === target) { found(String(n)); return; }
        n++;
        if ((n & 1023) === 0 && Date.now() > until) { setTimeout(slice, 0); return; }
      }
      found(""); // no answer below the bound: the page was changed; the server will say wait
    }
    slice();
  }

  function setup(box) {
    var form = box.closest("form");
    var answer = box.querySelector('input[name="pow_nonce"]');
    var status = box.querySelector('[role="status"]');
    if (!form || !answer || !box.getAttribute("data-salt") || typeof window.sha256 !== "function") return;
    var solved = false, waiting = null;

    function say(name) { if (status) status.textContent = box.getAttribute(name) || ""; }

    form.addEventListener("submit", function (event) {
      // Capture phase on the form: runs before the page's own submit handlers.
      if (solved || !box.isConnected) return;
      var submitter = event.submitter;
      if (submitter && submitter.hasAttribute("formnovalidate")) return; // e.g. a language switch
      event.preventDefault();
      event.stopImmediatePropagation();
      waiting = submitter || form;
      say("data-msg-waiting");
    }, true);

    say("data-msg-working");
    solve(box, function (n) {
      answer.value = n;
      solved = true;
      say("data-msg-done");
      if (waiting) {
        var submitter = waiting === form ? null : waiting;
        waiting = null;
        if (!form.requestSubmit) form.submit();
        else if (submitter) form.requestSubmit(submitter);
        else form.requestSubmit();
      }
    });
  }

  /* A page that stays after a refused upload (contribute.js) takes the answer's fresh challenge. */
  function adopt(answerDocument, form) {
    var fresh = answerDocument.querySelector(".proof-of-work[data-salt]");
    if (!fresh || !form) return;
    var box = document.importNode(fresh, true);
    var old = form.querySelector(".proof-of-work");
    if (old) old.parentNode.replaceChild(box, old); else form.appendChild(box);
    setup(box);
  }

  window.NuevoNorteProof = { adopt: adopt };
  Array.prototype.forEach.call(document.querySelectorAll(".proof-of-work[data-salt]"), setup);
})();
