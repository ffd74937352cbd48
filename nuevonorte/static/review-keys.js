// Keyboard shortcuts on a story's review page. They move around and focus fields; none of them
// publishes, deletes or saves anything on its own (the focused button still needs Enter).
(function () {
  "use strict";
  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }
  function follow(selector) {
    var link = document.querySelector(selector);
    if (link) { window.location.href = link.href; }
  }
  function focus(selector) {
    var field = document.querySelector(selector);
    if (field) { field.focus(); field.scrollIntoView({block: "center"}); }
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var actions = {
      j: function () { follow('a[rel="next"]'); },
      k: function () { follow('a[rel="prev"]'); },
      q: function () { follow('nav.pages a:not([rel])'); },
      m: function () { focus("#decide textarea"); },
      n: function () { focus("#notes textarea"); },
      p: function () { focus("#publish"); }
    };
    var act = actions[event.key];
    if (act) { event.preventDefault(); act(); }
  });
})();
