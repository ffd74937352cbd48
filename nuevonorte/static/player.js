/* Transcript beside the audio: highlight the current cue, click a cue to seek.
   Without this script the page still works: cue links reload the page at ?t=<seconds>. */
(function () {
  "use strict";
  document.querySelectorAll("ol.transcript[data-player]").forEach(function (list) {
    var audio = document.getElementById(list.getAttribute("data-player"));
    if (!audio) { return; }
    var cues = Array.prototype.slice.call(list.querySelectorAll("li.cue"));
    var current = null;

    function mark(cue) {
      if (cue === current) { return; }
      if (current) { current.classList.remove("current"); current.removeAttribute("aria-current"); }
      current = cue;
      if (cue) { cue.classList.add("current"); cue.setAttribute("aria-current", "true"); }
    }

    audio.addEventListener("timeupdate", function () {
      var t = audio.currentTime;
      mark(cues.find(function (cue) {
        return t >= parseFloat(cue.dataset.start) && t < parseFloat(cue.dataset.end);
      }) || null);
    });

    list.addEventListener("click", function (event) {
      var link = event.target.closest("a.seek");
      if (!link) { return; }
      event.preventDefault();
      var cue = link.closest("li.cue");
      audio.currentTime = parseFloat(cue.dataset.start);
      mark(cue);
      var playing = audio.play();
      if (playing && playing.catch) { playing.catch(function () {}); }
    });

    var start = parseFloat(audio.dataset.start || "");
    if (!isNaN(start)) {
      var seek = function () { audio.currentTime = start; };
      if (audio.readyState >= 1) { seek(); } else { audio.addEventListener("loadedmetadata", seek, { once: true }); }
    }
  });

  /* The parts of a recording (segments): a click seeks the player to the part's start. */
  document.querySelectorAll("ol.segments[data-player]").forEach(function (list) {
    var audio = document.getElementById(list.getAttribute("data-player"));
    if (!audio) { return; }
    list.addEventListener("click", function (event) {
      var link = event.target.closest("a.seek");
      if (!link) { return; }
      event.preventDefault();
      audio.currentTime = parseFloat(link.closest("li.segment").dataset.start);
      audio.focus();
      var playing = audio.play();
      if (playing && playing.catch) { playing.catch(function () {}); }
    });
  });
})();
