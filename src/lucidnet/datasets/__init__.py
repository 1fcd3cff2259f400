"""Data sets: ``(X, y)`` with float32 features and int64 labels shaped ``(n,)``.

- ``toy``: built in code: the seeds' truth tables and fruit, ``spirals``, ``moons``,
  ``circles``.
- ``idx``: ``read_idx``, the IDX file format of MNIST (raw or gzip), checked byte by byte.
- ``images``: ``load_fashion_mnist`` / ``load_mnist``, found on disk (explicit path,
  ``$LUCIDNET_DATA``, the Debian package's directory, the user cache) or downloaded and
  verified by SHA-256.
- ``tabular``: ``read_csv`` / ``load_csv``, the user's own tabular data, every problem
  reported with its file, line and column; ``read_raw``, a CSV file's cells as text (what
  ``lucidnet.data_contract`` reads by column name).

The download settings ``DEBIAN_DIRS``, ``MIRRORS``, ``SHA256`` and ``DOWNLOAD_TIMEOUT`` are
re-exported here but read from ``lucidnet.datasets.images`` at each call: the tables are the
same objects, so changing an entry works from either place, but assigning a new value
(``DOWNLOAD_TIMEOUT`` above all) only takes effect on ``lucidnet.datasets.images``.
"""

from .idx import IDXError, read_idx
from .images import (
    DEBIAN_DIRS,
    DOWNLOAD_TIMEOUT,
    MIRRORS,
    SHA256,
    DatasetNotFoundError,
    load_fashion_mnist,
    load_mnist,
)
from .tabular import CSVTable, RawTable, load_csv, read_csv, read_raw
from .toy import and_gate, circles, fruit, moons, or_gate, spirals, xor

__all__ = [
    "DEBIAN_DIRS",
    "DOWNLOAD_TIMEOUT",
    "MIRRORS",
    "SHA256",
    "CSVTable",
    "DatasetNotFoundError",
    "IDXError",
    "RawTable",
    "and_gate",
    "circles",
    "fruit",
    "load_csv",
    "load_fashion_mnist",
    "load_mnist",
    "moons",
    "or_gate",
    "read_csv",
    "read_idx",
    "read_raw",
    "spirals",
    "xor",
]
