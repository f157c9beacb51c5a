"""Which step a viewer shows, Qt-free: the newest one while following the stream, or one
selected in the history (a click on the timeline, ← / → while paused); and the time a seek
is heading for, shown until the first step after it arrives. The GUI's panels follow it;
tests read it without Qt."""

from __future__ import annotations

from live_snn.view.history import StepHistory


class ViewState:
    def __init__(self, history: StepHistory):
        self.history = history
        self.selected_bin: int | None = None     # None: following the newest step
        self.seek_target_us: int | None = None   # a seek not yet followed by a step

    @property
    def following(self) -> bool:
        """The newest step is shown (no past step selected)."""
        return self.selected_bin is None

    def focus_bin(self) -> int | None:
        """The step the panels show: the selected one (while the history has it), else the
        newest."""
        if self.selected_bin is not None and self.history.has(self.selected_bin):
            return self.selected_bin
        return self.history.latest_bin

    def select(self, bin_index: int) -> bool:
        """Show the past step ``bin_index``; False (nothing changes) when the history does
        not have it."""
        if not self.history.has(bin_index):
            return False
        self.selected_bin = int(bin_index)
        return True

    def next_step(self) -> int | None:
        """The step → shows from the history: the one after the selected step, if there is
        one; None when the next step has to come from the stream."""
        if self.selected_bin is not None and self.history.has(self.selected_bin + 1):
            return self.selected_bin + 1
        return None

    def previous_step(self) -> int | None:
        """The step ← shows: the one before the selected (or newest) step, if the history
        has it."""
        current = self.selected_bin if self.selected_bin is not None else self.history.latest_bin
        if current is not None and self.history.has(current - 1):
            return current - 1
        return None

    def follow_latest(self) -> None:
        self.selected_bin = None

    def seek(self, t_us: int) -> None:
        """A seek to ``t_us`` was asked for: follow the stream from there, and show that time
        until its first step arrives."""
        self.selected_bin = None
        self.seek_target_us = int(t_us)

    def steps_arrived(self, count: int) -> None:
        if count:
            self.seek_target_us = None

    def new_session(self) -> None:
        self.selected_bin = None
        self.seek_target_us = None

    def time_shown_us(self) -> int | None:
        """The time the transport shows: where a pending seek goes, else the end of the
        newest step."""
        if self.seek_target_us is not None:
            return self.seek_target_us
        latest = self.history.latest_bin
        if latest is None:
            return None
        return int(self.history.column("t_end")[latest - self.history.first_bin])
