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

# moto's server is threaded but its DynamoDB backend is not thread-safe: concurrent
# TransactWriteItems deep-copy a table while another request mutates it, and moto answers 500.
# Real DynamoDB serialises conflicting writes; serialising every request here gives the same
# guarantees (and costs nothing real: the GIL already serialises the work).
import threading  # noqa: E402

from moto.moto_server import werkzeug_app  # noqa: E402

_lock = threading.Lock()
_dispatch = werkzeug_app.DomainDispatcherApplication.__call__


def _serialised(self, environ, start_response):
    with _lock:
        # Consume the response inside the lock: WSGI bodies may be generated lazily.
        return list(_dispatch(self, environ, start_response))


werkzeug_app.DomainDispatcherApplication.__call__ = _serialised

from moto.server import main  # noqa: E402  (imported after the patch on purpose)

if __name__ == "__main__":
    main(sys.argv[1:])
