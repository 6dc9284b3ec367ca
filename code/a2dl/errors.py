"""What can go wrong with the user's inputs, one error type per kind of input.

Each is raised where the input is read, with a message that names the file (and the line,
where there is one), says what is wrong with it and what to do. The command line prints the
message alone and exits with status 2; a traceback is kept for bugs.
"""

from __future__ import annotations


class InputError(Exception):
    """A bad input the user can fix; the message says how."""


class DatasetError(InputError, RuntimeError):
    """A dataset is missing, unreachable, or its download is corrupt."""


class DataFileError(DatasetError):
    """A file inside a dataset folder is malformed or differs from the canonical file."""


class WeightsFileError(InputError, RuntimeError):
    """A weights file cannot be read: missing, truncated, altered, or not a weights file."""


class WeightsMismatchError(WeightsFileError, ValueError):
    """A weights file does not belong to the model it is being loaded into."""


class OutputError(InputError, OSError):
    """A folder the command must write to is not writable; checked before any training."""
