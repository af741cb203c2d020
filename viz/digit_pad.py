"""The handwritten digit pad: one self-contained HTML page that runs a trained digits MLP in the browser.

`export_digit_pad(model, path)` reads a trained 64-input, 10-output MLP by duck typing (viz never
imports nn): `model.layers[k].neurons[j].w` (Values), `.b` (a Value or None) and `.activation`
(a name). The weights become plain floats, embedded as JSON in the page, which needs no server, no
network and no file beside it. The learner draws a digit with the mouse or a finger; the page turns
the drawing into the 8x8 input the network was trained on and shows the ten probabilities as bars,
updating while the learner draws.

How a drawing becomes the network's 8x8 input (scikit-learn's digits, as `nn.datasets.digits`
scales them: 0..16 ink per cell divided by 16, so values in [0, 1]):

1. The strokes' bounding box is found; every sklearn digit touches the top and bottom rows of its
   8x8 box and is centred, so the box's longer side is scaled to fill the square exactly (the pen's
   width included) and its centre goes to the square's centre.
2. The strokes are drawn again on a hidden 64x64 canvas with a pen PEN_FRACTION of its side wide
   (the data's strokes are about 1.2 cells of 8 wide).
3. Each 8x8 cell of that canvas is averaged (area averaging), rounded to sixteenths like the data's
   0..16 counts, and the 64 values feed the network.

The JavaScript forward pass repeats the Python one in the same order (sum of w_i * x_i from 0, then
the bias; the same activation formulas; softmax after the last layer), so its probabilities equal
`nn.softmax(model(x))` to rounding. A test hook for headless browsers:
`window.axongrad.predict8x8(values64)` returns {logits, probs, label}, and `window.axongrad.lastInput`,
`.lastProbs`, `.lastLabel` hold what the pad last fed the network and got back.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograd import real_number
from viz.files import write_atomically
from viz.labels import page_text, script_json

INPUTS = 64
"""Pixels of an 8x8 digit: the model's first layer must read this many inputs."""

CLASSES = 10
"""Digits 0..9: the model's last layer must have this many outputs."""

PEN_FRACTION = 0.15
"""Pen width on the hidden square, as a fraction of its side (about 1.2 of 8 cells)."""

ACTIVATIONS = ("linear", "step", "sign", "sigmoid", "tanh", "relu", "leaky_relu")
"""Activation names the page's JavaScript implements (the same formulas as autograd's operations)."""

FORMAT = "axongrad-digit-pad"
"""The "format" field of the JSON embedded in the page."""

PAGE_VERSION = 1
"""The "version" field of the embedded JSON (bumped when its layout changes)."""


def _number(value: object, where: str) -> float:
    """A finite float from a Value-like `.data` or a number, or a TypeError/ValueError naming `where`."""
    return real_number(getattr(value, "data", value), f"export_digit_pad: {where}")


def _sequence(value: object, where: str) -> Sequence[Any]:
    """`value` as a non-empty sequence (not a string), or a TypeError/ValueError naming `where`."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"export_digit_pad: {where} needs a list, got {type(value).__name__}")
    if not value:
        raise ValueError(f"export_digit_pad: {where} needs at least one entry, got none")
    return value


def mlp_as_lists(model: Any) -> dict[str, Any]:
    """The model's weights as plain JSON-ready data: {"layers": [{"activations", "weights", "biases"}]}.

    Reads `model.layers[k].neurons[j]` with `.w` (numbers or Values), `.b` (one, or None) and
    `.activation` (a name in ACTIVATIONS). Checks that layer k's neurons read as many inputs as
    layer k-1 has neurons, that the first layer reads 64 pixels and that the last has 10 outputs;
    raises TypeError or ValueError naming the bad field (e.g. "layers[1].neurons[3].w[2]").
    """
    layers = _sequence(getattr(model, "layers", None), "model.layers (an MLP-like model)")
    out: list[dict[str, Any]] = []
    width = INPUTS
    for k, layer in enumerate(layers):
        neurons = _sequence(getattr(layer, "neurons", None), f"layers[{k}].neurons")
        weights: list[list[float]] = []
        biases: list[float] = []
        activations: list[str] = []
        for j, neuron in enumerate(neurons):
            where = f"layers[{k}].neurons[{j}]"
            w = _sequence(getattr(neuron, "w", None), f"{where}.w")
            if len(w) != width:
                expected = f"the {width} outputs of layers[{k - 1}]" if k else "the 64 pixels of a digit"
                raise ValueError(
                    f"export_digit_pad: {where}.w has {len(w)} weights, but the neuron reads {expected}"
                )
            weights.append([_number(v, f"{where}.w[{i}]") for i, v in enumerate(w)])
            if not hasattr(neuron, "b"):
                raise TypeError(f"export_digit_pad: {where} has no bias attribute .b (a Value or None)")
            b = neuron.b
            biases.append(0.0 if b is None else _number(b, f"{where}.b"))
            activation = getattr(neuron, "activation", None)
            if activation not in ACTIVATIONS:
                raise ValueError(
                    f"export_digit_pad: {where}.activation {activation!r} is not one the page implements; "
                    f"valid: {', '.join(ACTIVATIONS)}"
                )
            activations.append(str(activation))
        # NOTE: a missing bias is stored as 0.0; x + 0.0 == x in floating point, so outputs are unchanged.
        out.append({"activations": activations, "weights": weights, "biases": biases})
        width = len(neurons)
    if width != CLASSES:
        raise ValueError(
            f"export_digit_pad: the last layer needs {CLASSES} outputs (digits 0..9), got {width}"
        )
    return {"format": FORMAT, "version": PAGE_VERSION, "inputs": INPUTS, "layers": out}


def _architecture(data: dict[str, Any]) -> str:
    """A one-line description such as "64 → 32 (relu) → 10 (linear) → softmax"."""
    parts = [str(data["inputs"])]
    for layer in data["layers"]:
        kinds = sorted(set(layer["activations"]))
        parts.append(f"{len(layer['weights'])} ({'/'.join(kinds)})")
    return " → ".join([*parts, "softmax"])


def digit_pad_html(model: Any, title: str = "axongrad: draw a digit") -> str:
    """The digit pad page for `model` as one HTML string (see the module docstring)."""
    if not isinstance(title, str):
        raise TypeError(f"digit_pad_html(title) needs a str, got {type(title).__name__}")
    data = mlp_as_lists(model)
    replacements = {
        "__TITLE__": page_text(title),
        "__ARCHITECTURE__": page_text(_architecture(data)),
        "__PEN__": repr(PEN_FRACTION),
        "__MODEL_JSON__": script_json(data),
    }
    # One pass, so a title that contains "__MODEL_JSON__" stays text.
    return re.sub("|".join(replacements), lambda m: replacements[m.group()], PAGE_TEMPLATE)


def export_digit_pad(model: Any, path: str | os.PathLike[str], title: str = "axongrad: draw a digit") -> Path:
    """Write the self-contained digit pad page for a trained 64-input, 10-output MLP; return its path.

    The file is written atomically (a temporary file renamed over `path`), so an existing page is
    replaced whole or left as it was. Open it in any browser: no server, no network.
    """
    page = digit_pad_html(model, title)
    target = Path(os.fspath(path))
    write_atomically(target.resolve(), page.encode("utf-8"))
    return target


# No external resource of any kind: styles and script are inline, and the weights are JSON data.
PAGE_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
  h1 { font-size: 1.4em; margin: 0 0 0.2em 0; }
  .sub { color: #666; margin: 0 0 1em 0; }
  .row { display: flex; flex-wrap: wrap; gap: 2em; align-items: flex-start; }
  #pad { border: 2px solid #444; border-radius: 6px; background: #fff; touch-action: none;
         cursor: crosshair; width: 280px; height: 280px; display: block; }
  #preview { border: 1px solid #888; width: 120px; height: 120px; image-rendering: pixelated;
             display: block; }
  button { font-size: 1em; padding: 0.35em 1.2em; margin-top: 0.6em; }
  #prediction { font-size: 2.2em; font-weight: bold; min-height: 1.3em; }
  .bar { display: flex; align-items: center; gap: 0.5em; margin: 3px 0; font-variant-numeric: tabular-nums; }
  .bar .digit { width: 1em; font-weight: bold; text-align: right; }
  .bar .track { width: 240px; height: 18px; background: #e4e4e4; border-radius: 3px; overflow: hidden; }
  .bar .fill { height: 100%; width: 0; background: #7a9cc6; }
  .bar.top .fill { background: #2e7d32; }
  .bar .pct { width: 4.5em; text-align: right; color: #444; }
  .note { color: #555; max-width: 46em; font-size: 0.92em; margin-top: 1.2em; }
</style>
</head>
<body>
<h1>__TITLE__</h1>
<p class="sub">Draw one digit (0-9) with the mouse or a finger. Network: __ARCHITECTURE__</p>
<div class="row">
  <div>
    <canvas id="pad" width="280" height="280" aria-label="drawing pad"></canvas>
    <button id="clear" type="button">Clear</button>
  </div>
  <div>
    <div>What the network sees (8x8):</div>
    <canvas id="preview" width="8" height="8" aria-label="8x8 input"></canvas>
    <div style="margin-top: 1em">Prediction:</div>
    <div id="prediction" data-label="">-</div>
  </div>
  <div id="bars" aria-label="probabilities"></div>
</div>
<p class="note">The page crops your drawing to its bounding box, scales the longer side to fill an
8x8 square (like scikit-learn's digits, which touch the top and bottom of their box), averages each
cell's ink into 0..16 steps divided by 16 (as in training), and runs the network's forward pass:
each neuron computes activation(w0*x0 + w1*x1 + ... + b), and softmax turns the last layer's ten
outputs into the probabilities shown as bars.</p>
<script type="application/json" id="axongrad-model">__MODEL_JSON__</script>
<script>
"use strict";
(function () {
  const MODEL = JSON.parse(document.getElementById("axongrad-model").textContent);
  const SIDE = 64;            // hidden square: 8 cells of 8x8 pixels
  const CELLS = 8;
  const PEN = __PEN__;        // pen width on the hidden square, fraction of its side
  const MIN_EXTENT = 0.1;     // a dot is scaled as if it spanned a tenth of the pad
  const pad = document.getElementById("pad");
  const ctx = pad.getContext("2d");
  const preview = document.getElementById("preview");
  const pctx = preview.getContext("2d");
  const hidden = document.createElement("canvas");
  hidden.width = SIDE;
  hidden.height = SIDE;
  const hctx = hidden.getContext("2d", { willReadFrequently: true });
  const strokes = [];
  let drawing = false;
  let pending = false;

  // The activations, with the same formulas as autograd's operations (ops.py).
  const ACT = {
    linear: function (z) { return z; },
    relu: function (z) { return z > 0 ? z : 0; },
    leaky_relu: function (z) { return z > 0 ? z : 0 - 0.01 * (-z); },
    sigmoid: function (z) {
      if (z >= 0) { return 1 / (1 + Math.exp(-z)); }
      const e = Math.exp(z);
      return e / (1 + e);
    },
    tanh: function (z) { return Math.tanh(z); },
    step: function (z) { return z >= 0 ? 1 : 0; },
    sign: function (z) { return z >= 0 ? 1 : -1; }
  };

  function forward(x) {
    let h = x;
    for (const layer of MODEL.layers) {
      const out = [];
      for (let j = 0; j < layer.weights.length; j++) {
        const w = layer.weights[j];
        let z = 0;
        for (let i = 0; i < w.length; i++) { z += w[i] * h[i]; }
        z += layer.biases[j];
        out.push(ACT[layer.activations[j]](z));
      }
      h = out;
    }
    return h;
  }

  function softmax(z) {
    const top = Math.max.apply(null, z);
    const exps = z.map(function (v) { return Math.exp(v - top); });
    let total = 0;
    for (const e of exps) { total += e; }
    return exps.map(function (e) { return e / total; });
  }

  function predict8x8(values) {
    if (!values || values.length !== MODEL.inputs) {
      const got = values ? values.length : values;
      throw new Error("predict8x8 needs " + MODEL.inputs + " values, got " + got);
    }
    const x = Array.from(values, Number);
    if (!x.every(Number.isFinite)) { throw new Error("predict8x8 needs finite numbers"); }
    const logits = forward(x);
    const probs = softmax(logits);
    let label = 0;
    for (let k = 1; k < probs.length; k++) { if (probs[k] > probs[label]) { label = k; } }
    return { logits: logits, probs: probs, label: label };
  }

  // The drawing as the 8x8 input of the training data (see the steps in the note above).
  function downsample() {
    const points = [].concat.apply([], strokes);
    if (points.length === 0) { return null; }
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (const p of points) {
      minX = Math.min(minX, p.x); maxX = Math.max(maxX, p.x);
      minY = Math.min(minY, p.y); maxY = Math.max(maxY, p.y);
    }
    const extent = Math.max(maxX - minX, maxY - minY, MIN_EXTENT * pad.width);
    const pen = PEN * SIDE;
    const scale = (SIDE - pen) / extent;
    const cx = (minX + maxX) / 2, cy = (minY + maxY) / 2;
    const map = function (p) { return [(p.x - cx) * scale + SIDE / 2, (p.y - cy) * scale + SIDE / 2]; };
    hctx.setTransform(1, 0, 0, 1, 0, 0);
    hctx.clearRect(0, 0, SIDE, SIDE);
    hctx.strokeStyle = "#000";
    hctx.fillStyle = "#000";
    hctx.lineWidth = pen;
    hctx.lineCap = "round";
    hctx.lineJoin = "round";
    for (const stroke of strokes) {
      const first = map(stroke[0]);
      if (stroke.length === 1) {
        hctx.beginPath();
        hctx.arc(first[0], first[1], pen / 2, 0, 2 * Math.PI);
        hctx.fill();
        continue;
      }
      hctx.beginPath();
      hctx.moveTo(first[0], first[1]);
      for (let i = 1; i < stroke.length; i++) { const q = map(stroke[i]); hctx.lineTo(q[0], q[1]); }
      hctx.stroke();
    }
    const pixels = hctx.getImageData(0, 0, SIDE, SIDE).data;
    const size = SIDE / CELLS;
    const values = [];
    for (let r = 0; r < CELLS; r++) {
      for (let c = 0; c < CELLS; c++) {
        let ink = 0;
        for (let y = r * size; y < (r + 1) * size; y++) {
          for (let x = c * size; x < (c + 1) * size; x++) { ink += pixels[(y * SIDE + x) * 4 + 3] / 255; }
        }
        values.push(Math.round(16 * ink / (size * size)) / 16);
      }
    }
    return values;
  }

  const bars = [];
  const barBox = document.getElementById("bars");
  for (let k = 0; k < 10; k++) {
    const row = document.createElement("div");
    row.className = "bar";
    row.dataset.digit = String(k);
    const digit = document.createElement("span");
    digit.className = "digit";
    digit.textContent = String(k);
    const track = document.createElement("span");
    track.className = "track";
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.display = "block";
    track.appendChild(fill);
    const pct = document.createElement("span");
    pct.className = "pct";
    pct.textContent = "";
    row.appendChild(digit); row.appendChild(track); row.appendChild(pct);
    barBox.appendChild(row);
    bars.push({ row: row, fill: fill, pct: pct });
  }

  function showPreview(values) {
    pctx.fillStyle = "#fff";
    pctx.fillRect(0, 0, CELLS, CELLS);
    if (!values) { return; }
    for (let i = 0; i < values.length; i++) {
      const shade = Math.round(255 * (1 - values[i]));
      pctx.fillStyle = "rgb(" + shade + "," + shade + "," + shade + ")";
      pctx.fillRect(i % CELLS, Math.floor(i / CELLS), 1, 1);
    }
  }

  const api = {
    model: MODEL,
    predict8x8: predict8x8,
    downsample: downsample,
    lastInput: null,
    lastProbs: null,
    lastLabel: null,
    update: update,
    clear: clear
  };
  window.axongrad = api;

  function update() {
    pending = false;
    const values = downsample();
    showPreview(values);
    const prediction = document.getElementById("prediction");
    if (!values) {
      api.lastInput = null; api.lastProbs = null; api.lastLabel = null;
      prediction.textContent = "-";
      prediction.dataset.label = "";
      for (const bar of bars) {
        bar.fill.style.width = "0";
        bar.pct.textContent = "";
        bar.row.classList.remove("top");
      }
      return;
    }
    const result = predict8x8(values);
    api.lastInput = values;
    api.lastProbs = result.probs;
    api.lastLabel = result.label;
    prediction.textContent = result.label + "  (" + (100 * result.probs[result.label]).toFixed(1) + "%)";
    prediction.dataset.label = String(result.label);
    for (let k = 0; k < bars.length; k++) {
      bars[k].fill.style.width = (100 * result.probs[k]).toFixed(2) + "%";
      bars[k].pct.textContent = (100 * result.probs[k]).toFixed(1) + "%";
      bars[k].row.classList.toggle("top", k === result.label);
    }
  }

  function scheduleUpdate() {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(update);
  }

  function clear() {
    strokes.length = 0;
    drawing = false;
    ctx.clearRect(0, 0, pad.width, pad.height);
    update();
  }

  function point(event) {
    const rect = pad.getBoundingClientRect();
    return {
      x: (event.clientX - rect.left) * pad.width / rect.width,
      y: (event.clientY - rect.top) * pad.height / rect.height
    };
  }

  ctx.lineWidth = 18;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = "#111";
  ctx.fillStyle = "#111";

  pad.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    drawing = true;
    try { pad.setPointerCapture(event.pointerId); } catch (e) { /* synthetic events have no capture */ }
    const p = point(event);
    strokes.push([p]);
    ctx.beginPath();
    ctx.arc(p.x, p.y, ctx.lineWidth / 2, 0, 2 * Math.PI);
    ctx.fill();
    scheduleUpdate();
  });
  pad.addEventListener("pointermove", function (event) {
    if (!drawing) { return; }
    event.preventDefault();
    const stroke = strokes[strokes.length - 1];
    const last = stroke[stroke.length - 1];
    const p = point(event);
    stroke.push(p);
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    scheduleUpdate();
  });
  function stop(event) {
    if (!drawing) { return; }
    event.preventDefault();
    drawing = false;
    update();
  }
  pad.addEventListener("pointerup", stop);
  pad.addEventListener("pointercancel", stop);
  document.getElementById("clear").addEventListener("click", clear);
  update();
})();
</script>
</body>
</html>
"""
"""The page; `digit_pad_html` replaces __TITLE__, __ARCHITECTURE__, __PEN__ and __MODEL_JSON__."""
