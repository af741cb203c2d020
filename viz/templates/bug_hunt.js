"use strict";
(function () {
  // Every verdict was computed in Python (viz.bug_hunt); the page shows them as they are asked for.
  // Text goes in with textContent only: labels stay text whatever they contain.
  var data = JSON.parse(document.getElementById("hunt-data").textContent);
  var checked = {};
  var guesses = 0;
  var progress = document.getElementById("progress");
  var verdict = document.getElementById("verdict");
  var guessVerdict = document.getElementById("guess-verdict");
  var select = document.getElementById("guess-name");
  var buttons = {};

  function group(title) {
    var nodes = document.querySelectorAll("#stage g.node");
    for (var i = 0; i < nodes.length; i++) {
      var t = nodes[i].querySelector("title");
      if (t && t.textContent === title) return nodes[i];
    }
    return null;
  }

  function mark(op) {
    var sign = op.right ? "\u2713 " : "\u2717 ";
    var oval = group(op.id + "_op");
    if (oval) {
      var ellipse = oval.querySelector("ellipse");
      if (ellipse) {
        ellipse.setAttribute("fill", op.right ? data.colours.right_fill : data.colours.wrong_fill);
        ellipse.setAttribute("stroke", op.right ? data.colours.right_border : data.colours.wrong_border);
        ellipse.setAttribute("stroke-width", "2");
      }
      var text = oval.querySelector("text");
      if (text) text.textContent = sign + op.symbol;
    }
    var box = group(op.id);
    if (box) {
      var texts = box.querySelectorAll("text");
      for (var k = 0; k < texts.length; k++) {
        if (texts[k].textContent === op.shown) { texts[k].textContent = sign + op.shown; break; }
      }
    }
  }

  function check(op) {
    verdict.textContent = op.message;
    verdict.className = "verdict " + (op.right ? "right" : "wrong");
    verdict.setAttribute("data-verdict", op.name);
    if (op.name in checked) return;
    checked[op.name] = op.right;
    mark(op);
    var b = buttons[op.name];
    b.textContent = (op.right ? "\u2713 " : "\u2717 ") + op.shown;
    b.className = op.right ? "right" : "wrong";
    var n = Object.keys(checked).length;
    var wrong = Object.keys(checked).filter(function (k) { return !checked[k]; }).length;
    progress.textContent = "checked " + n + " of " + data.operations.length +
      (n ? " (" + (n - wrong) + " \u2713, " + wrong + " \u2717)" : "");
  }

  var row = document.getElementById("checks");
  data.operations.forEach(function (op) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = op.shown;  // as the diagram shows it (a newline as \n)
    b.setAttribute("data-check", op.name);
    b.addEventListener("click", function () { check(op); });
    row.appendChild(b);
    buttons[op.name] = b;
    var oval = group(op.id + "_op");
    if (oval) {
      oval.classList.add("op");
      oval.addEventListener("click", function () { check(op); });
    }
    var option = document.createElement("option");
    option.value = op.name;
    option.textContent = op.shown;
    select.appendChild(option);
  });

  document.getElementById("guess").addEventListener("click", function () {
    var name = select.value;
    var found = name === data.bug;
    guesses += 1;
    guessVerdict.textContent = "guess " + guesses + ": " + data.guesses[name];
    guessVerdict.className = "verdict " + (found ? "right" : "wrong");
    guessVerdict.setAttribute("data-guess", name);
  });
  document.getElementById("reveal").addEventListener("click", function () {
    guessVerdict.textContent = data.reveal;
    guessVerdict.className = "verdict";
    guessVerdict.setAttribute("data-guess", "reveal");
  });
})();
