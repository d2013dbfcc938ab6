"""nbconvert preprocessor used by lib/tools/notebook/kernel.ts to execute notebooks in the Deno kernel.

Why: the Deno kernel (2.x) forwards a cell's stdout through a pipe and a reader thread, and
display messages through a queue, so a cell's `stream` / `update_display_data` messages can reach
IOPub a few milliseconds *after* the cell's `status: idle`. Stock nbclient stops listening at
idle and drops messages whose parent is not the running cell, so executed notebooks randomly lose
the output of short cells (seen: the first two `console.log` cells of a fresh kernel, ~1 run in
10). This subclass

- routes every IOPub message to the cell whose execute request is its parent, even when it
  arrives while a later cell runs, and
- after a cell's idle, keeps listening until IOPub has been quiet for `late_output_grace` seconds.

Everything else is nbconvert's ExecutePreprocessor: `--ExecutePreprocessor.*` options apply.
Enable with `--KitExecutePreprocessor.enabled=True` and
`--NotebookExporter.preprocessors=kit_nbexec.KitExecutePreprocessor` (this folder on PYTHONPATH).
"""

from queue import Empty

from nbclient.exceptions import CellExecutionComplete
from nbclient.util import ensure_async
from nbconvert.preprocessors import ExecutePreprocessor
from traitlets import Float


class KitExecutePreprocessor(ExecutePreprocessor):
    """ExecutePreprocessor that keeps IOPub messages arriving after their cell went idle."""

    late_output_grace = Float(
        0.1, help="Seconds of IOPub silence to wait for after a cell's idle status."
    ).tag(config=True)

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        cells = self.__dict__.setdefault("_kit_cells_by_msg_id", {})
        cells[parent_msg_id] = (cell, cell_index)
        idle = False
        while True:
            try:
                msg = await ensure_async(
                    self.kc.iopub_channel.get_msg(
                        timeout=self.late_output_grace if idle else None
                    )
                )
            except Empty:
                return
            target = cells.get(msg["parent_header"].get("msg_id"))
            if target is None:
                continue
            try:
                self.process_message(msg, target[0], target[1])
            except CellExecutionComplete:
                if target[0] is cell:
                    idle = True
