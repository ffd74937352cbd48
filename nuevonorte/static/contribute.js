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

  function setupRecorder(form) {
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
          playback.src = URL.createObjectURL(blob);
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
      if (size === 0) return; // text only: the ordinary post is quick
      event.preventDefault();
      var data = new FormData(form);
      if (submitter && submitter.name) data.append(submitter.name, submitter.value);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
      };
      xhr.onload = function () {
        // A refusal that names its problem (a file, a limit, a cut-off upload): keep this page,
        // so the chosen files and the recording stay ready to send again, and show the reason.
        if (xhr.status !== 201) {
          var answer = new DOMParser().parseFromString(xhr.responseText, "text/html");
          var reason = answer.getElementById("problem");
          if (reason && answer.getElementById("contribute-form")) {
            box.hidden = true;
            showProblem(reason.textContent.trim());
            if (window.NuevoNorteProof) window.NuevoNorteProof.adopt(answer, form); // decision 0008
            return;
          }
        }
        // Otherwise the answer is a whole page (the receipt, or the form with its field
        // errors): show it.
        document.open();
        document.write(xhr.responseText);
        document.close();
        if (xhr.status === 201) history.replaceState(null, "", form.action);
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
    var form = document.getElementById("contribute-form");
    if (!form) return;
    setupRecorder(form);
    setupProgress(form);
    keepStateOnLanguageSwitch(form);
  });
})();
