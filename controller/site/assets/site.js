// relgate dashboard: filtering and sorting only. Every page is complete
// without it; the filter form is shown only when this script runs.
(function () {
  "use strict";
  function rowsOf(doc) { return Array.prototype.slice.call(doc.querySelectorAll("table.rows tbody tr")); }
  // A row's data-* attribute is a JSON list of values: a value may hold spaces.
  function has(list, v) {
    try { return JSON.parse(list || "[]").indexOf(v) >= 0; } catch (e) { return false; }
  }
  var form = document.querySelector("form.filters");
  if (form) {
    form.hidden = false;
    var apply = function () {
      var want = {};
      Array.prototype.forEach.call(form.querySelectorAll("select"), function (s) { want[s.name] = s.value; });
      var shown = 0;
      rowsOf(document).forEach(function (tr) {
        var ok = true;
        for (var k in want) {
          if (want[k] && !has(tr.getAttribute("data-" + k), want[k])) { ok = false; }
        }
        tr.hidden = !ok;
        if (ok) { shown++; }
      });
      var out = form.querySelector("output");
      if (out) { out.textContent = String(shown); }
      Array.prototype.forEach.call(document.querySelectorAll("section.state"), function (sec) {
        var visible = sec.querySelectorAll("tbody tr:not([hidden])").length;
        sec.hidden = visible === 0 && sec.querySelectorAll("tbody tr").length > 0;
      });
    };
    form.addEventListener("change", apply);
    form.addEventListener("reset", function () { setTimeout(apply, 0); });
    apply();
  }
  // Sorting: a header button sorts its table by that column; again reverses.
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.querySelectorAll("thead th"), function (th, col) {
      var label = th.textContent;
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      th.textContent = "";
      th.appendChild(b);
      b.addEventListener("click", function () {
        var body = table.tBodies[0];
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        Array.prototype.forEach.call(table.querySelectorAll("thead th"), function (o) { o.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (x, y) {
          var a = (x.cells[col] && (x.cells[col].getAttribute("data-sort") || x.cells[col].textContent)) || "";
          var c = (y.cells[col] && (y.cells[col].getAttribute("data-sort") || y.cells[col].textContent)) || "";
          return a.localeCompare(c, undefined, { numeric: true }) * dir;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
