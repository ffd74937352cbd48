/* The transcript editor: set a passage's (or a part's) start and end from the player, with a
   button per field or from the keyboard while typing: Alt+K plays or pauses, Alt+[ sets the
   start and Alt+] the end of the row being edited. Without this script the buttons stay hidden
   and times are typed by hand. */
(function () {
  "use strict";
  var audio = document.getElementById("editor-player");
  if (!audio) { return; }
  var said = document.getElementById("player-said");

  function clock(seconds) {
    var ms = Math.max(0, Math.round(seconds * 1000));
    var h = Math.floor(ms / 3600000);
    var m = Math.floor(ms / 60000) % 60;
    var s = Math.floor(ms / 1000) % 60;
    function pad(n, width) { return String(n).padStart(width, "0"); }
    return h + ":" + pad(m, 2) + ":" + pad(s, 2) + "." + pad(ms % 1000, 3);
  }

  function setFromPlayer(input) {
    if (!input) { return; }
    input.value = clock(audio.currentTime);
    input.dispatchEvent(new Event("input", { bubbles: true }));
    if (said) {
      var words = said.getAttribute(input.dataset.clock === "end" ? "data-end" : "data-start") || "";
      said.textContent = words.replace("{time}", input.value);
    }
  }

  document.querySelectorAll("button.from-player").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      setFromPlayer(document.getElementById(button.dataset.target));
    });
  });

  function toggle() {
    if (audio.paused) {
      var playing = audio.play();
      if (playing && playing.catch) { playing.catch(function () {}); }
    } else {
      audio.pause();
    }
  }

  document.addEventListener("keydown", function (event) {
    if (!event.altKey || event.ctrlKey || event.metaKey) { return; }
    var which = { KeyK: "toggle", BracketLeft: "start", BracketRight: "end" }[event.code];
    if (!which) { return; }
    event.preventDefault();
    if (which === "toggle") { toggle(); return; }
    var row = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest("[data-timed], fieldset") : null;
    if (row) { setFromPlayer(row.querySelector('input[data-clock="' + which + '"]')); }
  });
})();
