"""Which failures mean "the database is not reachable" (answer `unavailable`, the client retries)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from server.store.database import StoreUnavailable, is_unavailable


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _dbapi(sqlstate: str) -> DBAPIError:
    return DBAPIError("SELECT 1", None, _DriverError(sqlstate))


@pytest.mark.parametrize(
    ("exc", "unavailable"),
    [
        (StoreUnavailable("down"), True),
        (PoolTimeout("QueuePool limit of size 10 overflow 10 reached"), True),  # a reconnect storm
        (OperationalError("SELECT 1", None, _DriverError("08006")), True),
        (_dbapi("57P03"), True),  # the database is starting up
        (_dbapi("57P01"), True),  # the database is shutting down
        (_dbapi("53300"), True),  # too many connections
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (_dbapi("42703"), False),  # undefined column: our bug, not an outage
        (IntegrityError("INSERT", None, _DriverError("23505")), False),
        (ValueError("bad"), False),
    ],
)
def test_outages_are_told_apart_from_bugs(exc: BaseException, unavailable: bool) -> None:
    assert is_unavailable(exc) is unavailable
