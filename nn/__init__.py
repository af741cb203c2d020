"""axongrad's nn package (see the README)."""

from __future__ import annotations

import autograd as _autograd

# HIPS autograd uses the same import name; fail with a clear message instead of an AttributeError.
if not getattr(_autograd, "__axongrad__", False):
    raise ImportError(
        f"nn needs axongrad's autograd package, but 'import autograd' found another one at "
        f"{getattr(_autograd, '__file__', '?')} (probably HIPS autograd, which uses the same name). "
        "Uninstall it with 'pip uninstall autograd' or use a separate virtual environment."
    )
