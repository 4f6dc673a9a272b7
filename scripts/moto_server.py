"""Run moto's server (KMS and Secrets Manager for the local stack) with its per-object instance
tracking switched off.

moto keeps a reference to every model object it ever creates (for its dashboard); long local
sessions and test runs would otherwise grow it without bound. Arguments are moto_server's own
(-H HOST -p PORT). DynamoDB is served by DynamoDB Local (scripts/dynamodb-local.sh), not moto.
"""

import sys

from moto.core import common_models


def _untracked_new(cls, *args, **kwargs):
    return object.__new__(cls)


common_models.BaseModel.__new__ = _untracked_new

from moto.server import main  # noqa: E402  (imported after the patch on purpose)

if __name__ == "__main__":
    main(sys.argv[1:])
