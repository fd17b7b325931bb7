"""Declarative base and naming convention (named constraints keep Alembic's batch mode working)."""

from typing import TypeVar

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, Session

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


_T = TypeVar("_T", bound=Base)


class MissingRecord(LookupError):
    """A record the caller named by id is not in the company file (deleted meanwhile, or a wrong id)."""


def get_required(session: Session, model: type[_T], ident: int) -> _T:
    """``session.get`` for a record that must exist; raises ``MissingRecord`` in words if it does not."""
    found = session.get(model, ident)
    if found is None:
        raise MissingRecord(f"{model.__name__} {ident} is not in the company file; it may have been deleted. "
                            "Refresh the view and try again.")
    return found
