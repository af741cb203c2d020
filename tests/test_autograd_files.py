"""autograd.files.write_atomically: the one writer behind model files, pictures and pages.

An existing file is replaced whole or left as it was, whatever interrupts the write, and no
temporary file is left behind; permissions of a replaced file are kept.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

import nn
from autograd.files import write_atomically


def test_writes_a_new_file_and_replaces_an_old_one(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "out.txt"  # missing folders are made
    write_atomically(path, b"first")
    write_atomically(str(path), b"second")
    assert path.read_bytes() == b"second"
    assert os.listdir(path.parent) == ["out.txt"]


def raise_keyboard_interrupt(*args: Any, **kwargs: Any) -> Any:
    """Stands in for a system call that the user interrupts with Ctrl-C."""
    raise KeyboardInterrupt


def interrupted_write_keeps(path: Path, monkeypatch: pytest.MonkeyPatch, name: str, stand_in: Any) -> None:
    """With `os.<name>` replaced by an interrupting `stand_in`, a write leaves file and folder as they are."""
    path.write_bytes(b"old content")
    monkeypatch.setattr(os, name, stand_in)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, b"new content, long enough to be cut")
    monkeypatch.undo()
    assert path.read_bytes() == b"old content"
    assert os.listdir(path.parent) == [path.name]  # no temporary file left


@pytest.mark.parametrize("call", ["fsync", "replace", "chmod"])
def test_an_interrupt_mid_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    interrupted_write_keeps(tmp_path / "model.json", monkeypatch, call, raise_keyboard_interrupt)


def test_an_interrupt_in_the_write_itself_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fdopen = os.fdopen

    class Interrupted:
        """A file object whose write is interrupted halfway (some bytes are already on disk)."""

        def __init__(self, fd: int, mode: str) -> None:
            self.file = real_fdopen(fd, mode)

        def __enter__(self) -> Interrupted:
            return self

        def __exit__(self, *exc: object) -> None:
            self.file.close()

        def write(self, data: bytes) -> int:
            self.file.write(data[:3])
            self.file.flush()
            raise KeyboardInterrupt

    interrupted_write_keeps(tmp_path / "page.html", monkeypatch, "fdopen", Interrupted)


def test_an_interrupted_model_save_keeps_the_old_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.json"
    nn.MLP(2, [3, 1], seed=0).save(path)
    before = path.read_bytes()
    monkeypatch.setattr(os, "fsync", raise_keyboard_interrupt)
    with pytest.raises(KeyboardInterrupt):
        nn.MLP(2, [3, 1], seed=1).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.json"]
    assert nn.load(path).state_dict() == nn.MLP(2, [3, 1], seed=0).state_dict()


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions and a non-root user"
)
def test_an_unwritable_folder_is_a_clear_error_and_keeps_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "out.txt").write_bytes(b"kept")
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError) as info:
            write_atomically(folder / "out.txt", b"new")
        assert "cannot write 'out.txt': no file can be created in folder" in str(info.value)
        assert str(folder) in str(info.value)
        assert (folder / "out.txt").read_bytes() == b"kept"
    finally:
        folder.chmod(0o700)


def test_an_unwritable_folder_message_when_creating_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same message where permissions cannot be tested (root): the folder refuses a new file."""
    real_open = os.open

    def refuse(path: str, flags: int, mode: int = 0o777) -> int:
        if path.endswith(".tmp"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(PermissionError) as info:
        write_atomically(tmp_path / "out.txt", b"new")
    assert str(info.value) == (
        f"[Errno 13] cannot write 'out.txt': no file can be created in folder {str(tmp_path)!r} "
        "(Permission denied)"
    )


@pytest.mark.skipif(os.name != "posix", reason="permission bits are POSIX")
def test_a_replaced_file_keeps_its_mode_and_a_new_file_follows_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "shared.svg"
    path.write_bytes(b"old")
    path.chmod(0o640)
    write_atomically(path, b"new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    umask = os.umask(0o022)
    try:
        write_atomically(tmp_path / "fresh.svg", b"new")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "fresh.svg").stat().st_mode) == 0o644


def test_content_must_be_bytes(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"^write_atomically\(content\) needs bytes, got str 'text'$"):
        write_atomically(tmp_path / "x", "text")  # type: ignore[arg-type]
    assert os.listdir(tmp_path) == []


def test_a_long_name_of_wide_characters_is_written_as_open_would(tmp_path: Path) -> None:
    """60 emoji are 240 bytes, a valid name: its temporary's name must stay under 255 bytes too."""
    target = tmp_path / ("\U0001f600" * 60 + ".json")
    write_atomically(str(target), b"{}")
    assert target.read_bytes() == b"{}"
    assert os.listdir(tmp_path) == [target.name]  # no temporary left beside it
