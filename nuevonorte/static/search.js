/* Search results: the "Filter" disclosure is open beside the results on wide screens and
   closed (one line above the results) on phones. Without this script it starts closed
   everywhere and opens with a click or a tap: nothing is lost. */
(function () {
  "use strict";
  var filters = document.getElementById("filters");
  if (!filters || !window.matchMedia) { return; }
  var wide = window.matchMedia("(min-width: 56rem)");
  function follow() { filters.open = wide.matches; }
  follow();
  if (wide.addEventListener) { wide.addEventListener("change", follow); }
}());
