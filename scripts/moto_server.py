"""Run moto's server with its per-object instance tracking switched off.

moto keeps a reference to every model object it ever creates (for its dashboard), and each
TransactWriteItems deep-copies the table first, so memory and latency grow with table size times
transactions. toolreg's tests and long local sessions make many transactions; without this the
server runs out of memory. Arguments are moto_server's own (-H HOST -p PORT).
"""

import sys

from moto.core import common_models


def _untracked_new(cls, *args, **kwargs):
    return object.__new__(cls)


common_models.BaseModel.__new__ = _untracked_new

from moto.server import main  # noqa: E402  (imported after the patch on purpose)

if __name__ == "__main__":
    main(sys.argv[1:])
