"""Whether another writer has been committing to the ledger lately, seen from the audit chain.

Why: a bulk group is decided ahead of the write lock (``Recorder.fire_ahead``) so that its rules run
while another process holds that lock. With no other writer there is nothing to overlap, and deciding
ahead only costs: the counts read twice, the group's counts carried twice, each sheet copied (about
30 us of CPU a transfer, docs/performance.md, session 9). Every group of this process appends to the
one audit chain, so a group that finds the chain's head anywhere but where this process's last group
left it knows that someone else wrote in between (another process, or this process's other paths:
a withdrawal, an amendment). Deciding ahead is then kept on for the next ``GROUPS`` groups.
Which way a group goes changes its time, never its decisions (``engine.fired_ahead``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class OtherWriters:
    """Seen through the chain head of each group this process writes (all under its committer lock)."""

    always: bool = False
    """Decide every group ahead, whatever was seen (tests of deciding ahead itself)."""
    last_own_head: int | None = None
    """The chain's sequence number as this process's last committed group left it (None: none yet)."""
    groups_left: int = 0
    """Groups still to decide ahead since another writer was last seen."""

    GROUPS = 8
    """How many groups a sighting keeps deciding ahead on: two writers take turns, so each of them sees
    the other at almost every group; one that stopped is forgotten within a few groups."""

    @property
    def decide_ahead(self) -> bool:
        return self.always or self.groups_left > 0

    def found_head(self, seq: int) -> None:
        """A group found the chain's head at ``seq`` when it took the write lock."""
        if self.last_own_head is not None and seq != self.last_own_head:
            self.groups_left = self.GROUPS
        elif self.groups_left:
            self.groups_left -= 1

    def committed(self, seq: int) -> None:
        """This process's group committed, leaving the chain's head at ``seq``."""
        self.last_own_head = seq
