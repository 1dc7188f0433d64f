"""Prepared queries give what the ORM gives, for any arguments, compiled once, on both databases."""
import itertools
import os
import re
import subprocess
import sys
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Count, Exists, OuterRef

from feeds.models import Follow
from servicedesk.prepared import PreparedQuery
from tests.support.processes import ROOT
from tickets import selectors
from tickets import services as tickets
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def incident(actor, title):
    return tickets.ticket_create(actor=actor, kind="incident", title=title, impact=2, urgency=2, visibility="public")


with_people = PreparedQuery(
    lambda *, ticket_id: Ticket.objects.select_related("requester", "assignee")
    .annotate(replies=Count("comments")).filter(pk=ticket_id),
    args=("ticket_id",),
)
flags = PreparedQuery(
    lambda *, ticket_id, user_id: Ticket.objects.filter(pk=ticket_id).annotate(
        following=Exists(Follow.objects.filter(target_type="ticket", target_id=OuterRef("pk"), user_id=user_id)),
    ).values("id", "following"),
    args=("ticket_id", "user_id"),
)


def test_model_rows_carry_their_related_objects_annotations_and_aware_times(alice, bob, django_assert_num_queries):
    first, second = incident(alice, "VPN drops"), incident(bob, "Printer jams")
    tickets.ticket_update(actor=bob, ticket=first, assignee=bob)
    tickets.comment_add(actor=bob, ticket=first, body="Looking")
    for ticket, requester, assignee, replies in ((first, "alice", "bob", 1), (second, "bob", None, 0)):
        with django_assert_num_queries(1):
            found = with_people.run(ticket_id=ticket.pk)[0]
            assert found.requester.username == requester
            assert (found.assignee.username if found.assignee else None) == assignee
        stored = Ticket.objects.get(pk=ticket.pk)
        assert (found.pk, found.title, found.created_at, found.replies) == (stored.pk, stored.title, stored.created_at, replies)
        assert found.created_at.tzinfo is not None
    assert with_people.run(ticket_id=10**9) == []


def test_values_rows_are_dicts_named_like_the_orm_and_each_argument_lands_in_its_place(alice, bob):
    ticket = incident(alice, "VPN drops")
    assert flags.run(ticket_id=ticket.pk, user_id=alice.pk) == [{"id": ticket.pk, "following": True}]
    assert flags.run(ticket_id=ticket.pk, user_id=bob.pk) == [{"id": ticket.pk, "following": False}]


def test_text_arguments_take_their_place_too(alice, bob):
    query = PreparedQuery(lambda *, name, ticket_id: Ticket.objects.filter(requester__username=name, pk__gte=ticket_id)
                          .values("title").order_by("pk"), args=("ticket_id",), text_args=("name",))
    first, second = incident(alice, "VPN drops"), incident(bob, "Printer jams")
    assert query.run(name="alice", ticket_id=first.pk) == [{"title": "VPN drops"}]
    assert query.run(name="bob", ticket_id=first.pk) == [{"title": "Printer jams"}]
    assert query.run(name="alice", ticket_id=second.pk) == [] and query.run(name="x' OR 1=1 --", ticket_id=0) == []


def test_the_sql_is_compiled_once_per_database(alice):
    ticket = incident(alice, "VPN drops")
    query = PreparedQuery(lambda *, ticket_id: Ticket.objects.filter(pk=ticket_id).values("title"), args=("ticket_id",))
    with mock.patch.object(PreparedQuery, "_compile", autospec=True, side_effect=PreparedQuery._compile) as compile_:
        for _ in range(3):
            assert query.run(ticket_id=ticket.pk) == [{"title": "VPN drops"}]
    assert compile_.call_count == 1


def test_an_argument_the_query_never_uses_is_refused_at_compile_time():
    query = PreparedQuery(lambda *, ticket_id, user_id: Ticket.objects.filter(pk=ticket_id).values("id"),
                          args=("ticket_id", "user_id"))
    with pytest.raises(ValueError, match="user_id"):
        query.run(ticket_id=1, user_id=2)
    with pytest.raises(TypeError):
        PreparedQuery(lambda: Ticket.objects.values_list("id", flat=True), args=()).run()
    with pytest.raises(TypeError):
        PreparedQuery(lambda: Ticket.objects.annotate(n=Count("comments")).values_list("n", "id"), args=()).run()


def test_values_list_rows_are_tuples_in_the_order_asked(alice):
    ticket = incident(alice, "VPN drops")
    query = PreparedQuery(lambda *, ticket_id: Ticket.objects.filter(pk=ticket_id).values_list("title", "requester__username", "id"),
                          args=("ticket_id",))
    assert query.run(ticket_id=ticket.pk) == [("VPN drops", "alice", ticket.pk)]


def test_the_ticket_page_shows_files_internal_notes_and_history_to_agents_only(client, alice, bob, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    ticket = incident(alice, "VPN drops")
    tickets.reply_add(actor=alice, ticket=ticket, body="Here is the log.",
                      uploads=[SimpleUploadedFile("vpn.log", b"E42\n", content_type="text/plain")])
    tickets.comment_add(actor=bob, ticket=ticket, body="Checking the concentrator", internal=True)
    tickets.ticket_update(actor=bob, ticket=ticket, priority=1)
    comments = selectors.comments_for(user=bob, ticket=ticket)
    assert [c.body for c in comments] == ["Here is the log.", "Checking the concentrator"]
    assert [a.filename for a in comments[0].attachments.all()] == ["vpn.log"] and not comments[1].attachments.all()
    client.force_login(bob)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "vpn.log" in page and "Checking the concentrator" in page
    client.force_login(alice)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "vpn.log" in page and "Checking the concentrator" not in page
    assert selectors.changes_for(user=alice, ticket=ticket) == []
    changes = selectors.changes_for(user=bob, ticket=ticket)
    assert "priority" in [c.field for c in changes] and {c.actor.username for c in changes} >= {"bob"}


@pytest.mark.skipif(connection.vendor == "sqlite", reason="this is the PostgreSQL run; it starts the SQLite one")
def test_the_same_on_the_embedded_sqlite(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite3'}"}
    env.pop("PYTEST_XDIST_WORKER", None)
    result = subprocess.run([sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:randomly", "-p", "no:xdist"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=280)
    assert result.returncode == 0 and "7 passed, 2 skipped" in result.stdout, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="server-side prepared statements are PostgreSQL's")
def test_on_postgresql_the_statement_is_prepared_once_per_connection_and_not_when_turned_off(alice, settings):
    ticket = incident(alice, "VPN drops")

    def prepared_statements() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in cursor.fetchall()]

    with_people.run(ticket_id=ticket.pk)
    with_people.run(ticket_id=ticket.pk + 1)
    # PostgreSQL shows the statement with numbered placeholders where psycopg was given %s.
    numbers = itertools.count(1)
    ours = re.sub(r"%s", lambda _: f"${next(numbers)}", with_people._compiled[("default", "postgresql")].sql)
    # Prepared once for both calls, and nothing else: every other query runs as Django runs it.
    assert prepared_statements() == [ours]

    connection.connection.execute("DEALLOCATE ALL")
    connection.connection._prepared.clear()
    settings.DB_PREPARED_STATEMENTS = False
    assert with_people.run(ticket_id=ticket.pk)[0].replies == 0
    assert prepared_statements() == []
