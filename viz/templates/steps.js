// The backward-steps player: one frame (an inline SVG) per step. At every step the stage scrolls
// so the step's node, its operation and the edges into it are in sight, at a readable zoom.
(function () {
  "use strict";
  var frames = document.querySelectorAll("#stage > .frame");
  var stage = document.getElementById("stage");
  var slider = document.getElementById("slider");
  var caption = document.getElementById("caption");
  var counter = document.getElementById("counter");
  var prev = document.getElementById("prev");
  var next = document.getElementById("next");
  var zoomLabel = document.getElementById("zoom");
  var minZoom = Number(stage.getAttribute("data-min-zoom"));
  var current = 0;
  var zoom = 1;

  // dot writes sizes in points; a CSS pixel is 3/4 of a point.
  function natural(svg) {
    var pt = 4 / 3;
    return [parseFloat(svg.getAttribute("width")) * pt, parseFloat(svg.getAttribute("height")) * pt];
  }

  // `readable`: never below the zoom that keeps text at its smallest readable size; "fit" may go below.
  function setZoom(z, readable) {
    zoom = Math.max(readable ? minZoom : 0.05, Math.min(4, z));
    frames.forEach(function (f) {
      var svg = f.querySelector("svg");
      var size = natural(svg);
      svg.style.width = (size[0] * zoom) + "px";
      svg.style.height = (size[1] * zoom) + "px";
    });
    stage.setAttribute("data-zoom", zoom.toFixed(3));
    zoomLabel.textContent = Math.round(zoom * 100) + "%";
    follow();
  }

  function fit() {
    var size = natural(frames[current].querySelector("svg"));
    setZoom(Math.min(1, (stage.clientWidth - 4) / size[0], (stage.clientHeight - 4) / size[1]), false);
  }

  // The SVG groups of the step's node: the node, its operation oval, the edges into that oval and
  // the derivative labels on them (dot names them by id: "n5", "n5_op", "n2->n5_op", "n5_op_d0").
  function activeParts(frame) {
    var id = frame.getAttribute("data-node");
    var op = id + "_op";
    var node = null;
    var parts = [];
    frame.querySelectorAll("g.node, g.edge").forEach(function (g) {
      var title = g.querySelector("title");
      var name = title ? title.textContent : "";
      var ends = name.split("->");
      if (name === id) { node = g; parts.push(g); return; }
      if (ends.some(function (end) { return end === op || end.indexOf(op + "_d") === 0; })) { parts.push(g); }
    });
    return { node: node, parts: parts };
  }

  function union(elements) {
    var box = null;
    elements.forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) { return; }
      box = box ? {
        left: Math.min(box.left, r.left), top: Math.min(box.top, r.top),
        right: Math.max(box.right, r.right), bottom: Math.max(box.bottom, r.bottom)
      } : { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    });
    return box;
  }

  // Scroll the stage (never the page around it) so `box` is centred, or its top-left corner is
  // in sight when it is larger than the stage.
  function scrollTo(box) {
    var s = stage.getBoundingClientRect();
    var cw = stage.clientWidth;
    var ch = stage.clientHeight;
    var left = box.left - s.left - stage.clientLeft + stage.scrollLeft;
    var top = box.top - s.top - stage.clientTop + stage.scrollTop;
    var w = box.right - box.left;
    var h = box.bottom - box.top;
    stage.scrollLeft = w <= cw ? left - (cw - w) / 2 : left - 8;
    stage.scrollTop = h <= ch ? top - (ch - h) / 2 : top - 8;
  }

  // Before the page has a layout (a notebook's iframe can run this script before its output area
  // is laid out, or while the output is hidden) nothing has a size: follow() waits for the stage's
  // resize observer to call it again once the stage has one.
  function follow() {
    var found = activeParts(frames[current]);
    if (!found.node) { return; }
    var all = union(found.parts);
    var own = union([found.node]);
    if (!own) { return; }
    var fits = all && all.right - all.left <= stage.clientWidth && all.bottom - all.top <= stage.clientHeight;
    scrollTo(fits ? all : own);
  }

  function show(i) {
    i = Math.max(0, Math.min(frames.length - 1, i));
    frames[current].hidden = true;
    frames[i].hidden = false;
    current = i;
    stage.setAttribute("data-step", String(i));
    stage.setAttribute("data-node", frames[i].getAttribute("data-node"));
    slider.value = String(i);
    caption.textContent = frames[i].getAttribute("data-caption");
    counter.textContent = "step " + i + " / " + (frames.length - 1);
    prev.disabled = i === 0;
    next.disabled = i === frames.length - 1;
    follow();
  }

  prev.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  slider.addEventListener("input", function () { show(Number(slider.value)); });
  document.getElementById("zoom-in").addEventListener("click", function () { setZoom(zoom * 1.25, true); });
  document.getElementById("zoom-out").addEventListener("click", function () { setZoom(zoom / 1.25, true); });
  document.getElementById("zoom-reset").addEventListener("click", function () { setZoom(1, true); });
  document.getElementById("zoom-fit").addEventListener("click", fit);
  document.addEventListener("keydown", function (event) {
    if (event.target === slider) { return; }
    if (event.key === "ArrowRight") { show(current + 1); }
    if (event.key === "ArrowLeft") { show(current - 1); }
    if (event.key === "+" || event.key === "=") { setZoom(zoom * 1.25, true); }
    if (event.key === "-") { setZoom(zoom / 1.25, true); }
  });
  var drag = null;
  stage.addEventListener("pointerdown", function (event) {
    drag = [event.clientX, event.clientY, stage.scrollLeft, stage.scrollTop];
    stage.classList.add("dragging");
  });
  window.addEventListener("pointermove", function (event) {
    if (!drag) { return; }
    stage.scrollLeft = drag[2] - (event.clientX - drag[0]);
    stage.scrollTop = drag[3] - (event.clientY - drag[1]);
  });
  window.addEventListener("pointerup", function () { drag = null; stage.classList.remove("dragging"); });
  // The stage's size changes when the window does, and first when the page gets its layout.
  if (window.ResizeObserver) {
    new ResizeObserver(function () { follow(); }).observe(stage);
  } else {
    window.addEventListener("resize", follow);
  }
  setZoom(1, true);
  show(0);
})();
