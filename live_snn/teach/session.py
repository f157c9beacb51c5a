"""The prompts of a teaching session, as a state machine on the source's clock.

Phases: ``waiting`` (for the first event) → for each prompt ``countdown`` ("Get ready:
right hand wave — 3, 2, 1") → ``take`` ("go": the person performs) → ``rest`` → ... →
``done`` once every prompt is taken; ``stopped`` (the user stopped) and ``lost`` (the source
went away) end a session early. The clock is the source's own time (µs of its events), so a
take's label is exactly its prompted span, whatever the display's delay and at any replay
speed.

``redo()`` throws the newest take away and prompts its class again next; ``discard()``
throws it away for good. A take cut short (stopped, source lost) is thrown away and the
session says so; kept takes are never touched. Not thread-safe on its own: the recorder
serialises calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from live_snn.teach.plan import TeachPlan

WAITING, COUNTDOWN, TAKE, REST, DONE, STOPPED, LOST = (
    "waiting", "countdown", "take", "rest", "done", "stopped", "lost")
ENDED = (DONE, STOPPED, LOST)


@dataclass(frozen=True)
class Take:
    number: int                 # 1, 2, ... in the order taken (redone takes count too)
    class_index: int
    class_name: str
    start_us: int               # "go"
    end_us: int                 # end of the prompted span
    status: str = "kept"        # kept | redone | discarded | cut short | lost
    note: str = ""


@dataclass(frozen=True)
class TeachStatus:
    """What a view shows: one snapshot of the session."""

    phase: str
    prompt: str                 # the line to show in large type
    class_name: str | None      # the class prompted (countdown, take) or next (rest)
    countdown: int | None       # 3, 2, 1 during the countdown
    progress: float             # 0..1 through the current phase
    takes_kept: int
    takes_planned: int          # kept + still to take
    kept_per_class: tuple[int, ...]
    message: str                # the latest notice (a take redone, discarded, lost)
    can_undo: bool              # redo() / discard() would act on a take
    now_us: int | None


CueCallback = Callable[[str, int, int], None]


class TeachSession:
    def __init__(self, plan: TeachPlan, *, on_cue: CueCallback | None = None) -> None:
        self.plan = plan
        self.takes: list[Take] = []
        self.queue: list[int] = plan.prompt_order()
        self.phase = WAITING
        self.phase_start_us = 0
        self.phase_end_us = 0
        self.current: int | None = None       # class of the countdown / take under way
        self.now_us: int | None = None
        self.message = ""
        self._on_cue = on_cue
        self._undoable: int | None = None     # index in takes of the newest finished take

    # ---- the clock ------------------------------------------------------------------------
    def advance(self, now_us: int) -> None:
        """The source's clock reached ``now_us``: move through every phase that ended."""
        if self.phase in ENDED:
            return
        self.now_us = now_us if self.now_us is None else max(self.now_us, now_us)
        if self.phase == WAITING:
            self._next_prompt(self.now_us)
        while self.phase not in ENDED and self.now_us >= self.phase_end_us:
            self._finish_phase()

    def _next_prompt(self, start_us: int) -> None:
        if not self.queue:
            self._enter(DONE, start_us, start_us)
            self.current = None
            self.message = self.message or f"all {self.kept_count()} takes recorded"
            return
        self.current = self.queue.pop(0)
        self._enter(COUNTDOWN, start_us, start_us + self.plan.countdown_us)
        if self._on_cue is not None:  # said ahead of time: a simulated person must know
            go = self.phase_end_us
            self._on_cue(self.plan.class_names[self.current], go, go + self.plan.take_us)

    def _finish_phase(self) -> None:
        end = self.phase_end_us
        if self.phase == COUNTDOWN:
            self._enter(TAKE, end, end + self.plan.take_us)
        elif self.phase == TAKE:
            assert self.current is not None
            self.takes.append(Take(len(self.takes) + 1, self.current,
                                   self.plan.class_names[self.current], self.phase_start_us, end))
            self._undoable = len(self.takes) - 1
            self._enter(REST, end, end + self.plan.rest_us)
        elif self.phase == REST:
            self._next_prompt(end)

    def _enter(self, phase: str, start_us: int, end_us: int) -> None:
        self.phase, self.phase_start_us, self.phase_end_us = phase, start_us, end_us

    # ---- the user -------------------------------------------------------------------------
    def redo(self) -> bool:
        """Throw the newest take away and prompt its class again next."""
        take = self._take_back("redone")
        if take is None:
            return False
        self.queue.insert(0, take.class_index)
        self.message = f"take {take.number} ({take.class_name}) thrown away: it comes again next"
        self._resume_if_done()
        return True

    def discard(self) -> bool:
        """Throw the newest take away for good."""
        take = self._take_back("discarded")
        if take is None:
            return False
        self.message = f"take {take.number} ({take.class_name}) discarded"
        return True

    def _take_back(self, status: str) -> Take | None:
        if self._undoable is None or self.phase in (STOPPED, LOST):
            return None
        take = self.takes[self._undoable]
        self.takes[self._undoable] = replace(take, status=status)
        self._undoable = None
        return take

    def _resume_if_done(self) -> None:
        if self.phase == DONE and self.now_us is not None:
            self._next_prompt(self.now_us)

    def stop(self) -> None:
        """The user ends the session; a take under way is thrown away."""
        self._end(STOPPED, "cut short", "the session was stopped during it")

    def source_lost(self, reason: str) -> None:
        """The source went away; a take under way is thrown away, the others are kept."""
        self._end(LOST, "lost", f"the source dropped during it ({reason})")
        if not self.message:
            self.message = f"the source dropped ({reason}); the takes so far are kept"

    def _end(self, phase: str, status: str, why: str) -> None:
        if self.phase in ENDED and phase == STOPPED:
            self.phase = STOPPED if self.phase == DONE else self.phase
            return
        if self.phase == TAKE and self.current is not None and self.now_us is not None:
            take = Take(len(self.takes) + 1, self.current, self.plan.class_names[self.current],
                        self.phase_start_us, self.now_us, status, why)
            self.takes.append(take)
            self.message = f"take {take.number} ({take.class_name}) discarded: {why}"
        self._undoable = None
        self.current = None
        self.phase = phase

    # ---- reading --------------------------------------------------------------------------
    def kept(self) -> list[Take]:
        return [t for t in self.takes if t.status == "kept"]

    def kept_count(self) -> int:
        return sum(t.status == "kept" for t in self.takes)

    def status(self) -> TeachStatus:
        names = self.plan.class_names
        kept = [0] * len(names)
        for take in self.kept():
            kept[take.class_index] += 1
        span = max(self.phase_end_us - self.phase_start_us, 1)
        now = self.now_us if self.now_us is not None else self.phase_start_us
        progress = min(max((now - self.phase_start_us) / span, 0.0), 1.0)
        name = names[self.current] if self.current is not None else None
        countdown = None
        if self.phase == COUNTDOWN:
            countdown = max(1, -(-(self.phase_end_us - now) // 1_000_000))
            prompt = f"Get ready: {name} — {countdown}"
        elif self.phase == TAKE:
            prompt = f"Go: {name}"
        elif self.phase == REST:
            name = names[self.queue[0]] if self.queue else None
            prompt = "Rest" + (f" — next: {name}" if name else "")
        elif self.phase == WAITING:
            prompt, progress = "Waiting for the first events…", 0.0
        else:
            prompt, progress = {DONE: "Done", STOPPED: "Stopped", LOST: "Source lost"}[
                self.phase], 1.0
        return TeachStatus(self.phase, prompt, name, countdown, progress, sum(kept),
                           sum(kept) + len(self.queue) + (self.phase in (COUNTDOWN, TAKE)),
                           tuple(kept), self.message, self._undoable is not None
                           and self.phase not in (STOPPED, LOST), self.now_us)
