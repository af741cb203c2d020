"""Writing pictures and pages: autograd's one atomic writer, under the name viz's stages import.

The policy (temporary file in the same folder, fsync, rename; the old file kept on any failure or
interrupt; permissions of a replaced file kept) is written once, in `autograd.files`.
"""

from __future__ import annotations

from autograd.files import write_atomically

__all__ = ["write_atomically"]
