"""nbconvert preprocessor used by lib/tools/notebook/book.ts: kit_nbexec's KitExecutePreprocessor
that also reports, on stderr, which code cell it is about to run and how long the last one took.

Lines look like `[kit-cell] start 3/17` and `[kit-cell] done 3/17 12.4` (seconds); book.ts turns
them into its progress line. Everything else is KitExecutePreprocessor (see kit_nbexec.py).
"""

import sys
import time

from kit_nbexec import KitExecutePreprocessor


class BookExecutePreprocessor(KitExecutePreprocessor):
    """KitExecutePreprocessor with a per-cell progress report on stderr."""

    def preprocess(self, nb, resources=None, km=None):
        self._kit_total = sum(1 for c in nb.cells if c.cell_type == "code")
        self._kit_done = 0
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return super().preprocess_cell(cell, resources, index)
        n = self._kit_done + 1
        print(f"[kit-cell] start {n}/{self._kit_total}", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        try:
            return super().preprocess_cell(cell, resources, index)
        finally:
            self._kit_done = n
            print(
                f"[kit-cell] done {n}/{self._kit_total} {time.monotonic() - t0:.1f}",
                file=sys.stderr,
                flush=True,
            )
