// The order of a collection's entries: drag an entry by its handle, or focus the handle and
// press the up and down arrows (Home and End: first and last place). Each move renumbers the
// place fields and is announced; nothing is saved until "Save order", which sends the whole
// order at once. Without this script the place fields alone do the same.
(function () {
  "use strict";
  var form = document.querySelector("form.order");
  if (!form) { return; }
  var list = form.querySelector("ol.order");
  var status = document.getElementById("order-status");
  var template = form.getAttribute("data-moved") || "";
  var dragged = null;

  function items() { return Array.prototype.slice.call(list.children); }
  function field(li) { return li.querySelector("input[type=number]"); }

  function settle(li) {
    var all = items();
    all.forEach(function (item, i) { field(item).value = String(i + 1); });
    if (status) {
      status.textContent = template
        .replace("{name}", li.getAttribute("data-name"))
        .replace("{place}", String(all.indexOf(li) + 1))
        .replace("{total}", String(all.length));
    }
  }

  // Put ``li`` at ``place`` (0-based) by moving the other entries around it where possible, so a
  // focused handle keeps the focus.
  function moveTo(li, place) {
    var all = items();
    var from = all.indexOf(li);
    place = Math.max(0, Math.min(all.length - 1, place));
    if (place === from) { return false; }
    var focused = document.activeElement;
    if (place < from) {
      all.slice(place, from).forEach(function (other) { list.insertBefore(other, li.nextElementSibling); });
    } else {
      all.slice(from + 1, place + 1).reverse().forEach(function (other) { list.insertBefore(other, li); });
    }
    if (focused && li.contains(focused)) { focused.focus(); }
    return true;
  }

  items().forEach(function (li) {
    var handle = li.querySelector(".handle");
    if (!handle) { return; }
    handle.hidden = false;
    handle.addEventListener("keydown", function (event) {
      var here = items().indexOf(li);
      var place = {ArrowUp: here - 1, ArrowDown: here + 1, Home: 0, End: items().length - 1}[event.key];
      if (place === undefined) { return; }
      event.preventDefault();
      if (moveTo(li, place)) { settle(li); }
    });
    handle.addEventListener("pointerdown", function () { li.draggable = true; });
    handle.addEventListener("pointerup", function () { li.draggable = false; });
    li.addEventListener("dragstart", function (event) {
      dragged = li;
      li.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", li.getAttribute("data-name") || "");
    });
    li.addEventListener("dragover", function (event) {
      if (!dragged) { return; }
      event.preventDefault();
      if (dragged === li) { return; }
      var box = li.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? li.nextElementSibling : li);
    });
    li.addEventListener("drop", function (event) {
      if (dragged) { event.preventDefault(); }
    });
    li.addEventListener("dragend", function () {
      li.draggable = false;
      li.classList.remove("dragging");
      dragged = null;
      settle(li);
    });
    field(li).addEventListener("change", function () {
      var place = parseInt(field(li).value, 10);
      if (isNaN(place)) { return; }
      moveTo(li, place - 1);
      settle(li);
    });
  });
})();
