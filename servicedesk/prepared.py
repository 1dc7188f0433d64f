"""Fixed-shape ORM queries compiled to SQL once per process.

Django turns a queryset into SQL every time it is evaluated. For the small queries a page runs on
every view, compiling costs more than running them (1-2 ms each against 0.2-0.5 ms in PostgreSQL
on a 2-core machine). A `PreparedQuery` builds its queryset once per database with stand-in values
for its arguments, keeps the SQL and where each stand-in sits among the parameters, and from then
on runs that SQL with the real values, turning the rows into model instances (with their
`select_related` objects and annotations) or dicts the way Django's own iterables do.

Only for queries whose shape never depends on the arguments: every value that changes between
calls (ids, the current time) must be an argument; anything else the builder reads is frozen into
the SQL the first time. Arguments are integers (ids) or, named in `text_args`, strings.

On PostgreSQL the SQL also runs as a server-side prepared statement (psycopg's `prepare=True`):
planning a query with four joins costs PostgreSQL more than running it (0.5 ms against 0.08 ms for
the ticket with its people, team and service), and a statement prepared on a pooled connection is
planned once for the connection's life. Django keeps psycopg's automatic preparation off for every
other query (it would break behind a transaction-mode PgBouncer); `DB_PREPARED_STATEMENTS=false`
turns it off here too for such a deployment.
"""
from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.query import ModelIterable, ValuesIterable, ValuesListIterable, get_related_populators

# Values no row ever has, so that each one found among the compiled parameters is that argument.
_STAND_IN = -7_319_001
_TEXT_STAND_IN = "~prepared-stand-in-{}~"


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: tuple[tuple[int, str], ...]  # (position among params, argument name)
    converters: tuple
    values_names: tuple[str, ...] | None  # values() queries: the keys of each dict
    tuples: bool  # values_list() queries: each row as it comes
    compiler: object  # model queries: select, klass_info and annotation_col_map of the compiled query


class PreparedQuery:
    def __init__(self, build: Callable[..., QuerySet], *, args: tuple[str, ...], text_args: tuple[str, ...] = ()):
        self._build = build
        self._args = args + text_args
        self._text = frozenset(text_args)
        self._compiled: dict[tuple[str, str], _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, alias: str) -> _Compiled:
        stand_ins = {name: _TEXT_STAND_IN.format(index) if name in self._text else _STAND_IN - index
                     for index, name in enumerate(self._args)}
        queryset = self._build(**stand_ins)
        if queryset._iterable_class not in (ModelIterable, ValuesIterable, ValuesListIterable):
            raise TypeError("A prepared query returns model instances, values() dicts or values_list() tuples.")
        query = queryset.query
        if queryset._iterable_class is ValuesListIterable and query.annotation_select:
            raise TypeError("A prepared values_list() reads columns only (Django reorders annotations).")
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        by_value = {value: name for name, value in stand_ins.items()}
        slots = tuple((index, by_value[value]) for index, value in enumerate(params)
                      if type(value) in (int, str) and value in by_value and type(value) is type(stand_ins[by_value[value]]))
        missing = set(self._args) - {name for _, name in slots}
        if missing:
            raise ValueError(f"The compiled query does not take {sorted(missing)} as parameters.")
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        converters = tuple(compiler.get_converters(fields).items())
        names = None
        if queryset._iterable_class is ValuesIterable:
            names = tuple(query.selected) if query.selected else (
                *query.extra_select, *query.values_select, *query.annotation_select)
        return _Compiled(sql=sql, params=tuple(params), slots=slots, converters=converters, values_names=names,
                         tuples=queryset._iterable_class is ValuesListIterable, compiler=compiler)

    def run(self, *, using: str | None = None, **values: int | str) -> list:
        alias = using or DEFAULT_DB_ALIAS
        connection = connections[alias]
        key = (alias, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(alias)
                self._compiled[key] = compiled
        params = list(compiled.params)
        for index, name in compiled.slots:
            params[index] = str(values[name]) if name in self._text else int(values[name])
        with prepared_cursor(connection) as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = [self._convert(row, compiled.converters, connection) for row in rows]
        if compiled.tuples:
            return [tuple(row) for row in rows]
        if compiled.values_names is not None:
            return [dict(zip(compiled.values_names, row)) for row in rows]
        return self._instances(compiled.compiler, rows, alias)

    @staticmethod
    def _convert(row, converters, connection) -> tuple:
        row = list(row)
        for position, (functions, expression) in converters:
            value = row[position]
            for function in functions:
                value = function(value, expression, connection)
            row[position] = value
        return tuple(row)

    @staticmethod
    def _instances(compiler, rows, alias: str) -> list:
        select, klass_info, annotation_col_map = compiler.select, compiler.klass_info, compiler.annotation_col_map
        model = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        init_list = [column[0].target.attname for column in select[start:end]]
        populators = get_related_populators(klass_info, select, alias)
        instances = []
        for row in rows:
            instance = model.from_db(alias, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, instance)
            for name, position in (annotation_col_map or {}).items():
                setattr(instance, name, row[position])
            instances.append(instance)
        return instances


def prepared_cursor(connection=None):
    """Django's cursor (query logging, execute wrappers, error wrapping) over a psycopg cursor that
    binds parameters on the server and prepares each statement, on PostgreSQL when
    DB_PREPARED_STATEMENTS allows; elsewhere Django's own. For fixed SQL that runs on every page."""
    connection = connection or connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
        return connection.cursor()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(_preparing_cursor_class()(connection.connection))


@functools.cache
def _preparing_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True if prepare is None else prepare, binary=binary)

    return PreparingCursor


def prepared(*, args: tuple[str, ...] = (), text_args: tuple[str, ...] = ()) -> Callable[[Callable[..., QuerySet]], PreparedQuery]:
    """Decorator: `@prepared(args=("ticket_id",))` over a function that builds the queryset."""

    def wrap(build: Callable[..., QuerySet]) -> PreparedQuery:
        return PreparedQuery(build, args=args, text_args=text_args)

    return wrap
