"""Model files: save/load roundtrip, validation of every field, and saves that never destroy a file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import nn
from nn import serialize


def make_model() -> nn.MLP:
    """A small model with mixed activations and one layer without bias."""
    return nn.MLP(
        3,
        [4, 2, 2],
        activation=["tanh", "relu"],
        output_activation="sigmoid",
        bias=[True, False, True],
        seed=0,
    )


def test_roundtrip_gives_identical_outputs(tmp_path: Path) -> None:
    model = make_model()
    path = tmp_path / "model.json"
    model.save(path)
    loaded = nn.load(path)
    assert repr(loaded) == repr(model)
    assert loaded.activations == model.activations and [layer.bias for layer in loaded.layers] == [
        True,
        False,
        True,
    ]
    assert loaded.state_dict() == model.state_dict()  # exact: JSON keeps every float's repr
    for x in ([0.1, -0.2, 0.3], [1.5, 2.0, -3.0]):
        assert [v.data for v in loaded(x)] == [v.data for v in model(x)]  # type: ignore[union-attr]
    data = json.loads(path.read_text())
    assert data["format"] == "axongrad-model" and data["version"] == 1
    assert data["architecture"] == {
        "nin": 3,
        "sizes": [4, 2, 2],
        "activations": ["tanh", "relu", "sigmoid"],
        "bias": [True, False, True],
    }


def test_nn_save_function_and_str_path(tmp_path: Path) -> None:
    model = nn.MLP(2, [1], seed=1)
    nn.save(model, str(tmp_path / "m.json"))
    assert nn.load(str(tmp_path / "m.json")).state_dict() == model.state_dict()
    with pytest.raises(TypeError, match="MLP"):
        nn.Neuron(2).save(tmp_path / "n.json")


def good() -> dict[str, Any]:
    """A valid model file's content."""
    return serialize.to_dict(make_model())


def write(tmp_path: Path, data: object) -> Path:
    """Write raw JSON data to a file."""
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    return path


def edit(change: Any) -> dict[str, Any]:
    """A valid file's content after `change(data)`."""
    data = good()
    change(data)
    return data


BAD_FILES = [
    ("wrong format", lambda d: d.update(format="pickle"), "'format' needs 'axongrad-model'"),
    (
        "wrong version",
        lambda d: d.update(version=2),
        r"'version' needs 1 \(the version this axongrad reads\), got 2",
    ),
    (
        "bool version",
        lambda d: d.update(version=True),
        r"'version' needs 1 \(the version this axongrad reads\), got bool True",
    ),
    ("missing version", lambda d: d.pop("version"), "missing key 'version'"),
    ("missing weights", lambda d: d.pop("weights"), "missing key 'weights'"),
    ("missing nin", lambda d: d["architecture"].pop("nin"), "missing key architecture.'nin'"),
    ("bad nin", lambda d: d["architecture"].update(nin=0), "architecture.nin needs an int >= 1, got 0"),
    ("bad size", lambda d: d["architecture"]["sizes"].__setitem__(1, 2.5), r"architecture.sizes\[1\]"),
    (
        "unknown activation",
        lambda d: d["architecture"]["activations"].__setitem__(0, "swish"),
        r"architecture.activations\[0\] needs one of linear, step, sign, sigmoid, tanh, relu, leaky_relu, "
        "got str 'swish'",
    ),
    (
        "short activations",
        lambda d: d["architecture"]["activations"].pop(),
        "activations needs a list of 3 entries, got list of 2",
    ),
    (
        "bias flag",
        lambda d: d["architecture"]["bias"].__setitem__(0, 1),
        r"architecture.bias\[0\] needs true",
    ),
    ("layer count", lambda d: d["weights"].pop(), "weights needs a list of 3 entries, got list of 2"),
    (
        "neuron count",
        lambda d: d["weights"][0].pop(),
        r"weights\[0\] needs a list of 4 entries, got list of 3",
    ),
    (
        "weight count",
        lambda d: d["weights"][1][0]["w"].append(0.0),
        r"weights\[1\]\[0\].w needs a list of 4 entries, got list of 5",
    ),
    (
        "string weight",
        lambda d: d["weights"][0][2]["w"].__setitem__(1, "0.5"),
        r"weights\[0\]\[2\].w\[1\] needs a finite number, got str '0.5'",
    ),
    (
        "bool weight",
        lambda d: d["weights"][0][2]["w"].__setitem__(0, True),
        r"weights\[0\]\[2\].w\[0\] needs a finite number, got bool True",
    ),
    (
        "null bias",
        lambda d: d["weights"][0][0].__setitem__("b", None),
        r"weights\[0\]\[0\].b needs a finite number, got NoneType None",
    ),
    (
        "unexpected bias",
        lambda d: d["weights"][1][0].__setitem__("b", 0.5),
        r"weights\[1\]\[0\].b needs null",
    ),
    ("missing bias", lambda d: d["weights"][2][1].pop("b"), r"missing key weights\[2\]\[1\].'b'"),
    (
        "neuron not object",
        lambda d: d["weights"][2].__setitem__(0, [1.0]),
        r"weights\[2\]\[0\] needs a JSON object",
    ),
    ("architecture not object", lambda d: d.update(architecture=[]), "'architecture' needs a JSON object"),
]


@pytest.mark.parametrize(("name", "change", "match"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_fields_raise_value_error_naming_the_field(
    tmp_path: Path, name: str, change: Any, match: str
) -> None:
    path = write(tmp_path, edit(change))
    with pytest.raises(ValueError, match=match):
        nn.load(path)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_rejected(tmp_path: Path, constant: str) -> None:
    path = tmp_path / "m.json"
    make_model().save(path)
    text = path.read_text()
    first_weight = json.dumps(good()["weights"][0][0]["w"][0])
    path.write_text(text.replace(first_weight, constant, 1))
    with pytest.raises(ValueError, match="non-finite number"):
        nn.load(path)


def test_huge_number_overflowing_to_inf_is_rejected(tmp_path: Path) -> None:
    data = good()
    path = tmp_path / "m.json"
    text = json.dumps(data).replace(json.dumps(data["weights"][0][0]["w"][0]), "1e999", 1)
    path.write_text(text)
    with pytest.raises(ValueError, match=r"weights\[0\]\[0\].w\[0\] needs a finite number"):
        nn.load(path)


def test_truncated_corrupted_and_non_json_files(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    make_model().save(path)
    raw = path.read_bytes()
    for cut in (0, 1, len(raw) // 3, len(raw) - 3):
        path.write_bytes(raw[:cut])
        with pytest.raises(ValueError, match="not valid JSON"):
            nn.load(path)
    path.write_bytes(b"\xff\xfe garbage")
    with pytest.raises(ValueError, match="not UTF-8"):
        nn.load(path)
    path.write_text("[1, 2, 3]")
    with pytest.raises(ValueError, match="top level needs a JSON object"):
        nn.load(path)
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "missing.json")


def test_failing_dump_leaves_previous_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "model.json"
    make_model().save(path)
    before = path.read_bytes()

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)  # after the bytes are written, before the rename
    with pytest.raises(OSError, match="disk full"):
        nn.MLP(3, [1], seed=5).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.json"]  # the temporary file was removed


def test_failing_rename_leaves_previous_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "model.json"
    make_model().save(path)
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise KeyboardInterrupt  # interrupted at the worst moment

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(KeyboardInterrupt):
        nn.MLP(3, [1], seed=5).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.json"]
    assert nn.load(path).state_dict() == make_model().state_dict()


def test_saved_file_is_readable_like_any_file_and_keeps_its_mode(tmp_path: Path) -> None:
    """A new model file is rw-r--r-- under umask 022 (not 0600); a replaced one keeps its mode."""
    import stat

    path = tmp_path / "model.json"
    previous = os.umask(0o022)  # other umasks: tests/test_adversarial_nn.py, in subprocesses
    try:
        nn.MLP(2, [1], seed=0).save(path)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    path.chmod(0o640)
    nn.MLP(2, [1], seed=1).save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
