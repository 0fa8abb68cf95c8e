"""Access methods beside the pointer click: dwell and switch scanning.

Both are plain state machines with an injectable clock (a function giving
seconds, ``time.monotonic`` by default), so tests drive them with a fake
clock and the window only forwards events and polls them from a timer.
No Qt here.

* ``Dwell``: resting the pointer on a key for ``seconds`` presses it once;
  ``progress()`` (0..1) is the fill the key shows meanwhile.  To press the
  same key again, leave it and come back.
* ``Scanner``: row-column scanning.  The highlight steps through the groups
  (the suggestion row first, because a suggestion saves the most, then the
  keyboard's rows); a select enters the highlighted group, and the highlight
  steps through its items; a second select presses the item and scanning
  starts again at the first group.  One switch: the highlight moves by itself
  every ``interval`` seconds and the switch selects.  Two switches: the first
  steps, the second selects.  A group gone round ``loops`` times without a
  select is left again, so a wrong choice costs one round, not a dead end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Generic, Hashable, TypeVar

Clock = Callable[[], float]
EPSILON = 1e-6  # seconds: a time "reached" within rounding counts as reached
T = TypeVar("T", bound=Hashable)


class Dwell(Generic[T]):
    def __init__(self, seconds: float, *, clock: Clock = time.monotonic) -> None:
        if seconds <= 0:
            raise ValueError(f"the dwell time must be positive, not {seconds}")
        self.seconds = seconds
        self._clock = clock
        self._target: T | None = None
        self._since = 0.0
        self._fired = False

    @property
    def target(self) -> T | None:
        return self._target

    def enter(self, target: T) -> None:
        """The pointer is now on ``target`` (the same target again changes nothing)."""
        if target == self._target:
            return
        self._target, self._since, self._fired = target, self._clock(), False

    def leave(self) -> None:
        self._target, self._fired = None, False

    def hold(self, target: T) -> None:
        """The pointer is on ``target`` but should not press it until it leaves and comes back
        (it was resting on a menu item that closed the menu above the key)."""
        self._target, self._fired = target, True

    def progress(self) -> float:
        if self._target is None or self._fired:
            return 0.0
        return min(1.0, (self._clock() - self._since) / self.seconds)

    def poll(self) -> T | None:
        """The target to press now (once per visit), or None."""
        if self._target is None or self._fired or self._clock() - self._since < self.seconds - EPSILON:
            return None
        self._fired = True
        return self._target


@dataclass(frozen=True)
class Highlight:
    group: int
    item: int | None  # None: the whole group is highlighted


class Scanner:
    """Row-column scanning over groups of ``sizes[g]`` items (a size may be 0: skipped)."""

    def __init__(self, sizes: list[int], *, switches: int = 1, interval: float = 1.0,
                 loops: int = 1, clock: Clock = time.monotonic) -> None:
        if switches not in (1, 2):
            raise ValueError(f"scanning uses one or two switches, not {switches}")
        if interval <= 0:
            raise ValueError(f"the scan interval must be positive, not {interval}")
        self.switches = switches
        self.interval = interval
        self.loops = loops
        self._clock = clock
        self._sizes = list(sizes)
        self.steps = 0  # highlight moves so far (waits of one interval with one switch)
        self.selects = 0
        self.restart()

    def restart(self) -> None:
        """Back to the first group that has items."""
        self._group = self._next_group(-1)
        self._item: int | None = None
        self._wraps = 0
        self._last = self._clock()
        self._fresh = True  # nothing stepped or selected since: new sizes may restart it

    def set_sizes(self, sizes: list[int]) -> None:
        """New group sizes (the suggestion row changed).  Scanning that has not moved since it
        (re)started starts again, so that suggestions that just came are scanned first; a
        highlight that no longer fits restarts too."""
        self._sizes = list(sizes)
        if self._fresh or self._group is None or self._sizes[self._group] == 0 or (
                self._item is not None and self._item >= self._sizes[self._group]):
            self.restart()

    @property
    def highlight(self) -> Highlight | None:
        if self._group is None:
            return None
        return Highlight(self._group, self._item)

    def _next_group(self, group: int) -> int | None:
        n = len(self._sizes)
        for offset in range(1, n + 1):
            candidate = (group + offset) % n
            if self._sizes[candidate] > 0:
                return candidate
        return None

    def step(self) -> None:
        """Move the highlight on by one."""
        if self._group is None:
            return
        self.steps += 1
        self._fresh = False
        self._last = self._clock()
        if self._item is None:
            self._group = self._next_group(self._group)
            return
        self._item += 1
        if self._item >= self._sizes[self._group]:
            self._item = 0
            self._wraps += 1
            if self._wraps >= self.loops:  # gone round without a select: back to the groups
                self._item, self._wraps = None, 0

    def select(self) -> tuple[int, int] | None:
        """Enter the highlighted group, or press its highlighted item: (group, item)."""
        if self._group is None:
            return None
        self.selects += 1
        self._fresh = False
        self._last = self._clock()
        if self._item is None:
            self._item, self._wraps = 0, 0
            return None
        chosen = (self._group, self._item)
        self.restart()
        return chosen

    def switch(self, number: int) -> tuple[int, int] | None:
        """Switch ``number`` (0 or 1) pressed: with one switch any selects, with two 0 steps."""
        if self.switches == 2 and number == 0:
            self.step()
            return None
        return self.select()

    def poll(self) -> bool:
        """One switch: move the highlight for every interval passed; True if it moved."""
        if self.switches != 1 or self._group is None:
            return False
        moved = False
        while self._clock() - self._last >= self.interval - EPSILON:
            last = self._last
            self.step()
            self._last = last + self.interval
            moved = True
        return moved
