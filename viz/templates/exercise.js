(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("exercise-data").textContent);
  var total = data.order.length;
  var right = {};
  var revealed = {};
  var NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

  function normalise(text) {
    return text.replace(/[\u2212\u2013]/g, "-").trim();
  }
  // Significant digits typed and half a unit in the last typed place ("0.178" -> [3, 0.0005]).
  function digits(text) {
    var t = normalise(text).replace(/^[+-]/, "").toLowerCase();
    var parts = t.split("e");
    var mantissa = parts[0];
    var exponent = parts.length > 1 ? parseInt(parts[1], 10) : 0;
    var dot = mantissa.indexOf(".");
    var whole = dot < 0 ? mantissa : mantissa.slice(0, dot);
    var fraction = dot < 0 ? "" : mantissa.slice(dot + 1);
    var significant = (whole + fraction).replace(/^0+/, "").length;
    return [significant, 0.5 * Math.pow(10, exponent - fraction.length)];
  }
  // The same rule as viz/answers.py's agrees(): 1e-3 relative, or rounded to >= 3 digits typed.
  function agrees(text, given, target) {
    var gap = Math.abs(given - target);
    if (gap <= 1e-3 * Math.abs(target) + 1e-12) { return true; }
    var d = digits(text);
    return d[0] >= 3 && gap <= d[1] * 1.0001 + 1e-12;
  }
  function judge(q, text) {
    var cleaned = normalise(text);
    if (cleaned === "") { return null; }
    if (!NUMBER.test(cleaned)) {
      return [null, data.notNumber];
    }
    var given = Number(cleaned);
    if (!isFinite(given)) { return [null, data.notFinite]; }
    if (agrees(cleaned, given, q.answer)) { return [true, q.right]; }
    for (var i = 0; i < q.mistakes.length; i++) {
      if (agrees(cleaned, given, q.mistakes[i][0])) { return [false, q.mistakes[i][2], q.mistakes[i][1]]; }
    }
    var hint = q.answer !== 0 && Math.abs(given - q.answer) <= 0.05 * Math.abs(q.answer) ? data.closeHint : "";
    return [false, q.wrong + hint];
  }
  function progress() {
    var count = 0;
    var shown = 0;
    data.order.forEach(function (name) {
      if (right[name]) { count += 1; }
      if (revealed[name]) { shown += 1; }
    });
    var line = document.getElementById("progress");
    line.textContent = count + " of " + total + " right" + (shown ? ", " + shown + " revealed" : "");
    line.setAttribute("data-progress", String(count));
  }
  document.querySelectorAll("li.question").forEach(function (item) {
    var name = item.getAttribute("data-question");
    var q = data.questions[name];
    var input = item.querySelector("input[data-answer]");
    var verdict = item.querySelector("[data-verdict]");
    var shown = item.querySelector("[data-revealed]");
    function check() {
      var result = judge(q, input.value);
      if (result === null) { return; }
      var state = result[0] === null ? "unreadable" : result[0] ? "right" : "wrong";
      right[name] = result[0] === true;
      verdict.textContent = {right: "\u2713 ", wrong: "\u2717 Wrong. ", unreadable: "? "}[state] + result[1];
      verdict.className = "verdict " + state;
      verdict.setAttribute("data-state", state);
      verdict.setAttribute("data-mistake", result.length > 2 ? result[2] : "");
      item.className = "question " + state;
      progress();
    }
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { check(); }
    });
    input.addEventListener("change", check);
    item.querySelector("button.check").addEventListener("click", check);
    item.querySelector("button.reveal").addEventListener("click", function () {
      shown.textContent = q.reveal;
      shown.hidden = false;
      revealed[name] = true;
      progress();
    });
  });
  progress();
  // Questions start at the root, drawn at the right end: show that end of a wide diagram first.
  var stage = document.getElementById("diagram");
  stage.scrollLeft = stage.scrollWidth;
})();
