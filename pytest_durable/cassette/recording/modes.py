"""Record modes, vcrpy's (and pytest-recording's), with its safe default.

====================  =========================  =========================================
mode                  cassette present           cassette missing
====================  =========================  =========================================
``none`` (default)    replay offline             error naming the command that records it
``once``              replay offline             record
``new_episodes``      replay what matches,       record
                      record the rest
``all``               record again, replace it   record
====================  =========================  =========================================

A local run (the fake service) saved as a cassette follows the same words: ``once`` writes a
missing cassette, ``new_episodes`` and ``all`` rewrite it, ``none`` never writes.
"""

from __future__ import annotations

from enum import StrEnum


class RecordMode(StrEnum):
    NONE = "none"
    ONCE = "once"
    NEW_EPISODES = "new_episodes"
    ALL = "all"

    @property
    def replays_existing(self) -> bool:
        """Whether an existing cassette is replayed offline rather than recorded again."""
        return self in (RecordMode.NONE, RecordMode.ONCE)
