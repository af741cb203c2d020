"""Model files users keep, attacked (issue 21): repeated keys, bytes paths, memory, links, look-alike
temporaries, FIFOs. Each test states the exact behaviour."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import nn
from autograd.files import _host_tag, file_path, write_atomically
from nn import serialize

ROOT = Path(__file__).resolve().parent.parent
POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX file system features")


def model_json(**extra: object) -> str:
    """A valid model file's text (a 2-3-1 MLP)."""
    return json.dumps(serialize.to_dict(nn.MLP(2, [3, 1], seed=0)))


# ------------------------------------------------------------------------- 1: repeated keys


def test_a_repeated_top_level_key_is_refused(tmp_path: Path) -> None:
    text = model_json()
    weights = text[text.index('"weights"') :].rstrip("}")
    (tmp_path / "m.json").write_text(text[:-1] + ", " + weights.replace("0.", "1.") + "}")
    with pytest.raises(ValueError, match=r"^model file: the key 'weights' appears twice at the top level$"):
        nn.load(tmp_path / "m.json")


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('"nin": 2', '"nin": 2, "nin": 5', "nin"),
        ('"b": ', '"b": 0.5, "b": ', "b"),
        ('"w": ', '"w": [1.0, 2.0], "w": ', "w"),
    ],
)
def test_a_repeated_key_at_any_level_is_refused(tmp_path: Path, old: str, new: str, key: str) -> None:
    (tmp_path / "m.json").write_text(model_json().replace(old, new, 1))
    with pytest.raises(ValueError, match=rf"model file: the key '{key}' appears twice in one object \(with "):
        nn.load(tmp_path / "m.json")


def test_an_unknown_top_level_key_is_refused_before_its_value_is_read(tmp_path: Path) -> None:
    text = model_json()
    (tmp_path / "m.json").write_text('{"junk": [' + ",".join(["[]"] * 1000) + "], " + text[1:])
    with pytest.raises(ValueError, match=r"^model file: unknown key 'junk' at the top level \(a model file "):
        nn.load(tmp_path / "m.json")


# ------------------------------------------------------------------------- 2: paths


@pytest.mark.parametrize("kind", [str, pathlib.Path, os.fsencode, lambda p: pathlib.PurePath(p)])
def test_save_and_load_take_str_bytes_and_pathlike(tmp_path: Path, kind: object) -> None:
    model = nn.MLP(2, [3, 1], seed=1)
    path = kind(str(tmp_path / "m.json"))  # type: ignore[operator]
    model.save(path)
    nn.save(model, path)
    loaded = nn.load(path)
    assert [p.data for p in loaded.parameters()] == [p.data for p in model.parameters()]


@POSIX
def test_an_undecodable_bytes_name_is_the_same_file(tmp_path: Path) -> None:
    path = os.fsencode(str(tmp_path)) + b"/m\xff.json"  # not UTF-8: kept as a surrogate escape
    nn.MLP(2, [1], seed=0).save(path)
    assert os.listdir(os.fsencode(str(tmp_path))) == [b"m\xff.json"]
    assert nn.load(path).nin == 2


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (3, TypeError, "save(path) needs a file path (str, bytes or os.PathLike), got 3"),
        (None, TypeError, "save(path) needs a file path (str, bytes or os.PathLike), got NoneType None"),
        ("", ValueError, "save(path) needs a file path, got an empty one"),
        (b"", ValueError, "save(path) needs a file path, got an empty one"),
        ("a\x00b", ValueError, "save(path) needs a file path without NUL characters, got 'a\\x00b'"),
    ],
)
def test_a_bad_path_is_a_clear_error(bad: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        nn.MLP(2, [1]).save(bad)  # type: ignore[arg-type]
    assert str(info.value) == message
    with pytest.raises(error, match="load\\(path\\)"):
        nn.load(bad)  # type: ignore[arg-type]


def test_one_converter_for_every_path() -> None:
    class Odd:
        def __fspath__(self) -> int:
            return 3

    assert file_path(b"models/x", "f(path)") == "models/x"
    assert file_path(pathlib.Path("models/x"), "f(path)") == os.path.join("models", "x")
    with pytest.raises(TypeError, match=r"^f\(path\) needs a file path \(str, bytes or os.PathLike\): "):
        file_path(Odd(), "f(path)")


# ------------------------------------------------------------------------- 3: memory


def peak_rss_added(path: Path) -> tuple[float, str]:
    """(MB of peak RSS that nn.load(path) adds, its outcome), measured in a fresh process."""
    code = (
        "import resource, sys, nn\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n    nn.load(sys.argv[1]); out = 'loaded'\n"
        "except ValueError as e:\n    out = str(e)\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)\nprint(out)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=ROOT)
    mb, outcome = done.stdout.split("\n", 1)
    return float(mb), outcome.strip()


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux")
def test_a_file_of_empty_lists_is_refused_before_it_is_built(tmp_path: Path) -> None:
    text = model_json()
    path = tmp_path / "junk.json"
    path.write_text(text[:-1] + ', "junk": [' + ",".join(["[]"] * 3_000_000) + "]}")  # 9 MB
    mb, outcome = peak_rss_added(path)
    assert outcome.startswith("model file: 'weights' and what follows hold 6000024 JSON items")
    assert outcome.endswith("but the architecture's weights need 23")
    assert mb < 40  # the bytes and the text (2 x 9 MB); building 3 million lists took about 200 MB


def test_a_file_with_more_items_than_max_parameters_allows_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    path.write_text("[" + ",".join(["1.5"] * 900) + "]")  # 3.6 kB: under 128 bytes x 100 parameters
    with pytest.raises(ValueError) as info:
        nn.load(path, max_parameters=100)
    assert str(info.value) == (
        f"model file {str(path)!r} has 900 JSON items (commas and brackets), more than a model of "
        "max_parameters=100 needs (864); if you trust the file, pass a larger max_parameters"
    )


@pytest.mark.parametrize("sizes", [[1] * 40, [7, 1], [1, 30, 1]])
@pytest.mark.parametrize("bias", [True, False])
def test_the_items_bound_admits_every_model_shape_exactly_at_its_size(
    tmp_path: Path, sizes: list[int], bias: bool
) -> None:
    model = nn.MLP(1, sizes, bias=bias, seed=0)
    count = len(model.parameters())
    model.save(tmp_path / "m.json")
    assert nn.load(tmp_path / "m.json", max_parameters=count).sizes == sizes  # the bound is not too tight
    with pytest.raises(ValueError, match="more than max_parameters"):
        nn.load(tmp_path / "m.json", max_parameters=count - 1)


def test_a_long_architecture_is_refused_unread(tmp_path: Path) -> None:
    text = model_json().replace('"sizes": [3, 1]', '"sizes": [3, 1' + ", 1" * 400_000 + "]")
    (tmp_path / "m.json").write_text(text)
    with pytest.raises(ValueError, match=r"^model file: 'architecture' is longer than 1048576 characters"):
        nn.load(tmp_path / "m.json")


def test_weights_before_the_architecture_are_refused(tmp_path: Path) -> None:
    data = serialize.to_dict(nn.MLP(2, [1], seed=0))
    (tmp_path / "m.json").write_text(json.dumps({"weights": data["weights"], **data}))
    with pytest.raises(ValueError, match=r"'weights' comes before 'architecture'; .* 'architecture' up$"):
        nn.load(tmp_path / "m.json")
    (tmp_path / "sorted.json").write_text(json.dumps(data, sort_keys=True))  # json's sort_keys order loads
    assert nn.load(tmp_path / "sorted.json").nin == 2


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"format": "axongrad-mod\xc3\xa9l"}', "non-ASCII character 'é' at byte 24; model files are ASCII"),
        (b'{"format": "\xf0\x9f\x98\x80"}', "holds the non-ASCII character '😀' at byte 12"),
        (b'{"format": "\xff"}', "is not UTF-8 text: byte 0xff at offset 12"),
    ],
)
def test_non_ascii_is_refused_without_decoding_the_file(tmp_path: Path, raw: bytes, message: str) -> None:
    (tmp_path / "m.json").write_bytes(raw)
    with pytest.raises(ValueError, match=message):
        nn.load(tmp_path / "m.json")


# ------------------------------------------------------------------------- 4: symbolic links


@POSIX
def test_save_through_a_link_replaces_its_target_and_keeps_the_link(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    target = tmp_path / "models" / "real.json"
    nn.MLP(2, [1], seed=0).save(target)
    link = tmp_path / "link.json"
    link.symlink_to(Path("models") / "real.json")  # relative, as ln -s makes them
    nn.MLP(3, [1], seed=0).save(link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("models", "real.json")
    assert nn.load(target).nin == 3 and nn.load(link).nin == 3
    assert sorted(os.listdir(tmp_path / "models")) == ["real.json"]  # no temporary left, none elsewhere
    assert sorted(os.listdir(tmp_path)) == ["link.json", "models"]


@POSIX
def test_save_through_a_chain_of_links(tmp_path: Path) -> None:
    (tmp_path / "real.json").write_text("old")
    (tmp_path / "b.json").symlink_to("real.json")
    (tmp_path / "a.json").symlink_to("b.json")
    nn.MLP(2, [1], seed=0).save(tmp_path / "a.json")
    assert (tmp_path / "a.json").is_symlink() and (tmp_path / "b.json").is_symlink()
    assert nn.load(tmp_path / "real.json").nin == 2


@POSIX
def test_a_dangling_link_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to("new.json")
    nn.MLP(2, [1], seed=0).save(link)
    assert link.is_symlink() and nn.load(tmp_path / "new.json").nin == 2


@POSIX
def test_a_link_into_a_missing_folder_or_a_loop_is_a_clear_error(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "gone" / "m.json")
    with pytest.raises(FileNotFoundError) as info:
        nn.MLP(2, [1]).save(link)
    assert str(info.value) == (
        f"[Errno 2] cannot write {str(link)!r}: it is a symbolic link to "
        f"{str(tmp_path / 'gone' / 'm.json')!r}, whose folder does not exist"
    )
    assert link.is_symlink() and not (tmp_path / "gone").exists()
    (tmp_path / "x.json").symlink_to("y.json")
    (tmp_path / "y.json").symlink_to("x.json")
    with pytest.raises(OSError, match=r"cannot write '.*x.json': it is a symbolic link in a loop of links$"):
        nn.MLP(2, [1]).save(tmp_path / "x.json")
    assert (tmp_path / "x.json").is_symlink() and (tmp_path / "y.json").is_symlink()


@POSIX
def test_a_hard_linked_file_gets_a_new_file_under_this_name_only(tmp_path: Path) -> None:
    """Documented: as with any atomic save, other hard links keep the old content (backups rely on it)."""
    nn.MLP(2, [1], seed=0).save(tmp_path / "m.json")
    os.link(tmp_path / "m.json", tmp_path / "backup.json")
    nn.MLP(3, [1], seed=0).save(tmp_path / "m.json")
    assert nn.load(tmp_path / "m.json").nin == 3 and nn.load(tmp_path / "backup.json").nin == 2


# ------------------------------------------------------------------------- 5: the stale-temporary sweep


def dead_pid() -> int:
    """The id of a process that has ended."""
    code = "import os; print(os.getpid())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    return int(done.stdout)


@POSIX
def test_a_users_look_alike_files_survive_and_real_stale_temporaries_go(tmp_path: Path) -> None:
    dead = dead_pid()
    users = [
        ".m.json.backup01.tmp", ".m.json.k2j4_x9q.tmp", f".m.json.{dead}.202401011200.tmp",
        f".m.json.{dead}.0123456789ab.tmp", ".m.json.axongrad.tmp", f".m.json.axongrad-{dead}.tmp",
        f".m.json.axongrad-{_host_tag()}-{dead}-0123456789AB.tmp",  # upper case: not a name we make
    ]
    for name in users:
        (tmp_path / name).write_text("the user's own notes")
    stale = tmp_path / f".m.json.axongrad-{_host_tag()}-{dead}-0123456789ab.tmp"
    stale.write_text('{"partial": ')
    nn.MLP(2, [1], seed=0).save(tmp_path / "m.json")
    assert sorted(os.listdir(tmp_path)) == sorted([*users, "m.json"])
    assert all((tmp_path / name).read_text() == "the user's own notes" for name in users)


@POSIX
def test_a_killed_save_leaves_a_temporary_the_next_save_removes(tmp_path: Path) -> None:
    """A real stale temporary: a process killed (SIGKILL) in the middle of its write."""
    code = (
        "import os, sys, autograd.files as f\n"
        "real = f._replace\n"
        "def stop(target, folder, name, content):\n"
        "    fd, tmp = f._create_temporary(folder, name); os.write(fd, b'partial'); os.kill(os.getpid(), 9)\n"
        "f._replace = stop\n"
        "f.write_atomically(sys.argv[1], b'x')\n"
    )
    path = tmp_path / "m.json"
    done = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True)
    assert done.returncode == -9
    (left,) = os.listdir(tmp_path)
    assert left.startswith(f".m.json.axongrad-{_host_tag()}-") and left.endswith(".tmp")
    nn.MLP(2, [1], seed=0).save(path)
    assert os.listdir(tmp_path) == ["m.json"]


@POSIX
def test_a_look_alike_link_or_folder_is_never_removed(tmp_path: Path) -> None:
    dead = dead_pid()
    folder = tmp_path / f".m.json.axongrad-{_host_tag()}-{dead}-0123456789ab.tmp"
    folder.mkdir()
    link = tmp_path / f".m.json.axongrad-{_host_tag()}-{dead}-0123456789cd.tmp"
    link.symlink_to("elsewhere")
    nn.MLP(2, [1], seed=0).save(tmp_path / "m.json")
    assert folder.is_dir() and link.is_symlink()


# ------------------------------------------------------------------------- 6: not a regular file


def load_in_thread(path: Path) -> BaseException | None:
    """What nn.load(path) raised, run in a thread given 10 s (a hang fails the test, never blocks it)."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            nn.load(path)
            outcome.append(None)
        except BaseException as error:  # handed to the test
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(10)
    assert outcome, f"nn.load({path}) blocked"
    return outcome[0]


@POSIX
def test_load_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "m.json"
    os.mkfifo(fifo)
    error = load_in_thread(fifo)
    assert isinstance(error, OSError) and not isinstance(error, IsADirectoryError)
    why = "it is a FIFO (named pipe), not a regular file"
    assert str(error) == f"[Errno 22] cannot read {str(fifo)!r}: {why}"


@POSIX
def test_load_refuses_a_folder_and_a_link_to_a_fifo(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match=r"it is a folder, not a regular file"):
        nn.load(tmp_path)
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "m.json").symlink_to("pipe")
    error = load_in_thread(tmp_path / "m.json")
    assert isinstance(error, OSError) and "it is a FIFO (named pipe), not a regular file" in str(error)


@POSIX
def test_a_fifo_swapped_in_after_the_check_is_refused_without_blocking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: the path passes os.stat as a file, then becomes a FIFO before it is opened."""
    path = tmp_path / "m.json"
    nn.MLP(2, [1]).save(path)
    real_open = os.open

    def swap_then_open(name: str, flags: int, *args: int) -> int:
        os.unlink(name)
        os.mkfifo(name)
        return real_open(name, flags, *args)

    monkeypatch.setattr(os, "open", swap_then_open)
    error = load_in_thread(path)
    assert isinstance(error, OSError) and "it is a FIFO (named pipe), not a regular file" in str(error)


@POSIX
def test_save_refuses_to_replace_a_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "m.json")
    with pytest.raises(OSError, match=r"cannot replace '.*m.json': it is a FIFO \(named pipe\), not a"):
        write_atomically(tmp_path / "m.json", b"data")
    assert os.listdir(tmp_path) == ["m.json"]


# ------------------------------------------------------------------------- second pass


def test_a_file_where_a_folder_should_be_is_named(tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("mine")
    with pytest.raises(NotADirectoryError) as info:
        nn.MLP(2, [1]).save(tmp_path / "notes" / "sub" / "m.json")
    notes = str(tmp_path / "notes")
    assert str(info.value) == f"[Errno 20] cannot write 'm.json': {notes!r} is a file, not a folder"
    assert (tmp_path / "notes").read_text() == "mine"


@POSIX
def test_a_long_file_name_saves_and_its_stale_temporaries_are_found(tmp_path: Path) -> None:
    """A 250-character name: the temporary's name (40 characters longer) would pass the 255-byte limit."""
    name = "m" * 245 + ".json"
    nn.MLP(2, [1], seed=0).save(tmp_path / name)
    assert os.listdir(tmp_path) == [name]
    from autograd.files import _stem

    stale = tmp_path / f".{_stem(name)}.axongrad-{_host_tag()}-{dead_pid()}-0123456789ab.tmp"
    stale.write_text("partial")
    nn.MLP(3, [1], seed=0).save(tmp_path / name)
    assert os.listdir(tmp_path) == [name] and nn.load(tmp_path / name).nin == 3


def test_a_byte_order_mark_is_read_past(tmp_path: Path) -> None:
    """Windows editors start UTF-8 files with one; nothing else non-ASCII is read."""
    (tmp_path / "m.json").write_bytes(b"\xef\xbb\xbf" + model_json().encode("ascii"))
    assert nn.load(tmp_path / "m.json").sizes == [3, 1]
    (tmp_path / "m.json").write_bytes(b"\xef\xbb\xbf\xef\xbb\xbf" + model_json().encode("ascii"))
    with pytest.raises(ValueError, match=r"non-ASCII character '\\ufeff' at byte 3;"):
        nn.load(tmp_path / "m.json")


def test_a_key_spelled_with_escapes_is_the_same_key(tmp_path: Path) -> None:
    text = model_json()
    (tmp_path / "m.json").write_text(text[:-1] + ', "weig\\u0068ts": []}')
    with pytest.raises(ValueError, match=r"^model file: the key 'weights' appears twice at the top level$"):
        nn.load(tmp_path / "m.json")
