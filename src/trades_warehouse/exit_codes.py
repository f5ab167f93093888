"""The exit codes of every ``trades-warehouse`` command, defined once.

The README's command table documents them; cron, CI and the tests read them.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # a build, a test or a verification failed
    BAD_INPUT = 2  # an argument or a file cannot be used
    REFUSED = 2  # `run`: going on would replace a schema that is not the warehouse's own
    DATABASE = 3  # unreachable, refusing, or the marts a command reads are missing
    LOCKED = 75  # EX_TEMPFAIL: another run holds the lock; try again at the next tick
