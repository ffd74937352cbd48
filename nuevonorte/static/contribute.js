/* Contribution form: voice recording (MediaRecorder) and an upload progress bar.
 * Everything here is an addition: without JavaScript the form posts as usual and the file
 * inputs still take recordings made with the phone's own recorder. No inline script (CSP). */
(function () {
  "use strict";

  var TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/ogg", "audio/mp4", "audio/webm"];
  var EXTENSIONS = { "audio/webm": "webm", "audio/ogg": "ogg", "audio/mp4": "m4a" };

  function pickType() {
    if (!window.MediaRecorder || !MediaRecorder.isTypeSupported) return "";
    for (var i = 0; i < TYPES.length; i++) {
      if (MediaRecorder.isTypeSupported(TYPES[i])) return TYPES[i];
    }
    return "";
  }

  function clock(seconds) {
    var s = Math.floor(seconds % 60);
    return Math.floor(seconds / 60) + ":" + (s < 10 ? "0" : "") + s;
  }

  function setupRecorder(form, sync) {
    var box = document.getElementById("recorder");
    var input = form.querySelector('input[name="audio"]');
    if (!box || !input || !navigator.mediaDevices || !window.MediaRecorder || !window.DataTransfer) return;
    var start = document.getElementById("record-start");
    var stop = document.getElementById("record-stop");
    var timer = document.getElementById("record-timer");
    var status = document.getElementById("record-status");
    var playback = document.getElementById("record-playback");
    var discard = document.getElementById("record-discard");
    var recorder = null, chunks = [], started = 0, ticking = null, recorded = null;
    box.hidden = false;

    function syncInput(extra) {
      // The recording travels as one more file of the ordinary "audio" field.
      var list = new DataTransfer();
      Array.prototype.forEach.call(input.files, function (f) {
        if (f !== recorded) list.items.add(f);
      });
      if (extra) list.items.add(extra);
      input.files = list.files;
    }

    start.addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
        var type = pickType();
        recorder = type ? new MediaRecorder(stream, { mimeType: type }) : new MediaRecorder(stream);
        chunks = [];
        recorder.ondataavailable = function (e) { if (e.data && e.data.size) chunks.push(e.data); };
        recorder.onstop = function () {
          stream.getTracks().forEach(function (t) { t.stop(); });
          var mime = (recorder.mimeType || type || "audio/webm").split(";")[0];
          var blob = new Blob(chunks, { type: mime });
          if (recorded) syncInput(null);
          recorded = new File([blob], "recording." + (EXTENSIONS[mime] || "webm"), { type: mime });
          syncInput(recorded);
          sync();
          playback.src = URL.createObjectURL(blob);
          leaving.changed();
          playback.hidden = false;
          discard.hidden = false;
          status.textContent = box.getAttribute("data-msg-recorded");
        };
        recorder.start(1000);
        started = Date.now();
        timer.textContent = "0:00";
        ticking = setInterval(function () { timer.textContent = clock((Date.now() - started) / 1000); }, 250);
        start.disabled = true;
        stop.disabled = false;
        box.classList.add("recording");
        status.textContent = "";
      }, function () {
        status.textContent = box.getAttribute("data-msg-denied");
      });
    });

    stop.addEventListener("click", function () {
      if (recorder && recorder.state !== "inactive") recorder.stop();
      clearInterval(ticking);
      start.disabled = false;
      stop.disabled = true;
      box.classList.remove("recording");
    });

    discard.addEventListener("click", function () {
      syncInput(null);
      recorded = null;
      playback.hidden = true;
      playback.removeAttribute("src");
      discard.hidden = true;
      status.textContent = "";
      timer.textContent = "0:00";
    });
  }

  function setupProgress(form) {
    var box = document.getElementById("upload-progress");
    var bar = document.getElementById("upload-bar");
    if (!box || !bar || !window.XMLHttpRequest || !window.FormData) return;
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (submitter && submitter.name === "switch_language") return; // plain post
      var size = 0;
      Array.prototype.forEach.call(form.querySelectorAll('input[type="file"]'), function (input) {
        Array.prototype.forEach.call(input.files, function (f) { size += f.size; });
      });
      var max = parseInt(form.getAttribute("data-max-bytes"), 10);
      if (max && size > max) {
        event.preventDefault();
        showProblem(form.getAttribute("data-msg-too-large"));
        return;
      }
      if (size === 0) { leaving.sent(); return; } // text only: the ordinary post is quick
      event.preventDefault();
      var data = new FormData(form);
      if (submitter && submitter.name) data.append(submitter.name, submitter.value);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
      };
      xhr.onload = function () {
        // Sent: the answer redirected to the receipt page. Go there as a page of its own (code
        // at the top of the screen, reloadable, in the history).
        if (xhr.status === 200 && xhr.responseURL && xhr.responseURL.indexOf("/contribute/receipt") !== -1) {
          leaving.sent();
          window.location.assign(xhr.responseURL);
          return;
        }
        // A refusal that names its problem (a file, a limit, a cut-off upload): keep this page,
        // so the chosen files and the recording stay ready to send again, and show the reason.
        if (xhr.status !== 201) {
          var answer = new DOMParser().parseFromString(xhr.responseText, "text/html");
          var reason = answer.getElementById("problem");
          // (Unless the archive kept files for the next try: then its page lists them.)
          if (reason && answer.getElementById("contribute-form") && !answer.getElementById("held-files")) {
            box.hidden = true;
            showProblem(reason.textContent.trim());
            if (window.NuevoNorteProof) window.NuevoNorteProof.adopt(answer, form); // decision 0008
            return;
          }
        }
        // Otherwise the answer is the form with its field errors (the files were kept by the
        // archive and are listed in it): show it.
        leaving.sent();
        document.open();
        document.write(xhr.responseText);
        document.close();
      };
      xhr.onerror = function () {
        box.hidden = true;
        showProblem(form.getAttribute("data-msg-incomplete")); // the typed text stays in the page
      };
      box.hidden = false;
      bar.value = 0;
      xhr.send(data);
    });
  }

  function keepStateOnLanguageSwitch(form) {
    // The header's language link is a plain link: here it posts the form instead (C13).
    var button = form.querySelector('button[name="switch_language"]');
    var link = document.querySelector("header.site nav a[hreflang]");
    if (!button || !link) return;
    link.addEventListener("click", function (event) {
      event.preventDefault();
      if (form.requestSubmit) form.requestSubmit(button); else button.click();
    });
  }

  // Leaving the page with words typed or a recording made asks first (the browser's own
  // question; its wording is the browser's). Sending, or a page the archive answered with the
  // text and files kept, is not leaving.
  var leaving = {
    dirty: false,
    changed: function () { leaving.dirty = true; },
    sent: function () { leaving.dirty = false; },
    watch: function (form) {
      form.addEventListener("input", leaving.changed);
      form.addEventListener("change", leaving.changed);
      if (document.getElementById("held-files") || document.getElementById("error-summary")) leaving.dirty = true;
      window.addEventListener("beforeunload", function (event) {
        if (!leaving.dirty) return;
        event.preventDefault();
        event.returnValue = "";
      });
    }
  };

  function checkBeforeSending(form) {
    // The browser checks the required choices itself before anything is sent; these two
    // rules depend on other fields, so they are set here as the person fills the form.
    var body = form.querySelector('textarea[name="body"]');
    var name = form.querySelector('input[name="credit_name"]');
    var credits = form.querySelectorAll('input[name="credit"]');
    function sync() {
      var anonymous = form.querySelector('input[name="credit"]:checked');
      if (name) name.required = !(anonymous && anonymous.value === "anonymous");
      var files = 0;
      Array.prototype.forEach.call(form.querySelectorAll('input[type="file"]'), function (input) { files += input.files.length; });
      files += form.querySelectorAll("input[data-held]:not(:checked)").length;
      if (body) body.setCustomValidity(body.value.trim() || files ? "" : form.getAttribute("data-msg-empty"));
    }
    Array.prototype.forEach.call(credits, function (c) { c.addEventListener("change", sync); });
    form.addEventListener("input", sync);
    form.addEventListener("change", sync);
    sync();
    return sync;
  }

  function focusProblem() {
    var summary = document.getElementById("error-summary") || document.getElementById("problem");
    if (summary) { summary.focus(); summary.scrollIntoView(); }
  }

  function setupReceipt() {
    var receipt = document.getElementById("receipt");
    if (!receipt || !receipt.hasAttribute("data-unconfirmed")) return;
    window.scrollTo(0, 0);
    var confirmed = false;
    var button = document.getElementById("written-down");
    if (button) button.addEventListener("click", function () { confirmed = true; });
    window.addEventListener("beforeunload", function (event) {
      if (confirmed) return;
      event.preventDefault();
      event.returnValue = receipt.getAttribute("data-msg-leave");
    });
  }

  function showProblem(text) {
    var problem = document.getElementById("problem");
    if (!problem) {
      problem = document.createElement("div");
      problem.id = "problem";
      problem.className = "problem";
      problem.setAttribute("role", "alert");
      var form = document.getElementById("contribute-form");
      form.parentNode.insertBefore(problem, form);
    }
    problem.textContent = text;
    problem.scrollIntoView();
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupReceipt();
    var form = document.getElementById("contribute-form");
    if (!form) return;
    var sync = checkBeforeSending(form);
    setupRecorder(form, sync);
    setupProgress(form);
    keepStateOnLanguageSwitch(form);
    leaving.watch(form);
    focusProblem();
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (submitter && submitter.name === "switch_language") leaving.sent();
    });
  });
})();
