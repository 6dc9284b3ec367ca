"""Dataset access: each dataset is used in place when present, downloaded and verified if not.

Every public loader takes an optional ``root`` (default: :func:`a2dl.paths.data_dir`).
"""

from a2dl.errors import DataFileError, DatasetError

__all__ = ["DataFileError", "DatasetError"]
