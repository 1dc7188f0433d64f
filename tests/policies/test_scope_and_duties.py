"""Issue 14: policies apply to the events they name, automatic posts keep ticket details inside,
requesters hear of every public change where they chose, nobody approves their own post, and the
demo's public status channel announces major incidents and holds hand-written posts."""
import importlib
from dataclasses import replace
from datetime import UTC, datetime, time

import pytest
from django.apps import apps as django_apps

from policies import demo, engine, selectors, services
from policies.engine import ChannelFacts, Context, Message, PolicyFacts
from policies.models import AuditEntry, Channel, OutboundPost, Policy

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CONTEXT = Context(now=NOW)
PUBLIC = ChannelFacts(name="Public status", kind="rss", audience="public")
INTERNAL = ChannelFacts(name="IT Teams", kind="teams", audience="internal")
NOTICES = PolicyFacts(id=1, name="Public incident notices", allowed_events=("major_incident_opened", "ticket_resolved"),
                      blocked_terms=("outage",), template="Service update on {number}: {event}.")
HAND_WRITTEN = PolicyFacts(id=2, name="Public hand-written posts", allowed_events=("manual_post", "maintenance_notice"),
                           blocked_terms=("outage",), requires_approval=True)
INCIDENT = Message(body="Major incident INC-000042 is being worked on.", event="major_incident_opened",
                   ticket_number="INC-000042", ticket_title="Finance application unavailable due to network outage",
                   automatic=True)


# --- 1. policy scope (engine) -------------------------------------------------------------------


def test_each_policy_governs_only_the_events_it_names():
    incident = engine.decide(PUBLIC, [HAND_WRITTEN, NOTICES], INCIDENT, CONTEXT)
    assert incident.allowed, incident.reasons
    assert incident.text == "Service update on INC-000042: major incident opened."
    assert (incident.applied, incident.skipped) == (["Public incident notices"], ["Public hand-written posts"])

    manual = engine.decide(PUBLIC, [NOTICES, HAND_WRITTEN], Message(body="E-mail maintenance on Saturday 08:00."), CONTEXT)
    assert manual.held and manual.hold_kinds == [engine.HOLD_APPROVAL]
    assert manual.text == "E-mail maintenance on Saturday 08:00.", "an out-of-scope template never rewrites it"
    assert (manual.applied, manual.skipped) == (["Public hand-written posts"], ["Public incident notices"])


def test_no_policy_covering_the_event_blocks_it():
    decision = engine.decide(PUBLIC, [NOTICES, HAND_WRITTEN], replace(INCIDENT, event="ticket_closed"), CONTEXT)
    assert decision.blocked and decision.reasons == ["No policy on this channel covers ticket closed."]
    assert decision.skipped == ["Public incident notices", "Public hand-written posts"]


def test_every_applicable_policy_adds_its_rules_and_the_lowest_id_template_wins():
    everything = PolicyFacts(id=3, name="Everything: no secrets", blocked_terms=("Saturday",), template="Ignored {body}")
    busy = PolicyFacts(id=4, name="Busy hour", allowed_events=("manual_post",), rate_limit_per_hour=1)
    quiet = PolicyFacts(id=5, name="Quiet incidents", allowed_events=("major_incident_opened",),
                        quiet_hours_start=time(11), quiet_hours_end=time(13))
    context = replace(CONTEXT, posts_last_hour=1)
    manual = engine.decide(PUBLIC, [busy, everything, quiet, HAND_WRITTEN],
                           Message(body="Printers arrive Monday."), context)
    assert manual.held and manual.hold_kinds == [engine.HOLD_APPROVAL, engine.HOLD_RATE]
    assert manual.not_before is None, "the quiet hours of a policy out of scope do not apply"
    assert manual.text == "Ignored Printers arrive Monday.", "policy 3 has the lowest-id template in scope (1 is out of it)"
    assert manual.applied == ["Public hand-written posts", "Everything: no secrets", "Busy hour"]
    assert manual.skipped == ["Quiet incidents"]
    blocked = engine.decide(PUBLIC, [everything, HAND_WRITTEN], Message(body="Printers arrive Saturday."), CONTEXT)
    assert blocked.blocked and any("Saturday" in r for r in blocked.reasons)
    incident = engine.decide(PUBLIC, [quiet, NOTICES], INCIDENT, context)
    assert incident.allowed and incident.not_before is not None
    assert incident.text == "Service update on INC-000042: major incident opened."


def test_inactive_policies_are_left_out_of_the_scope_by_the_service(dave, make_channel, make_policy):
    channel = make_channel(name="Team hook", audience="internal")
    policy = make_policy(channel, allowed_events=["manual_post"], blocked_terms=[])
    services.policy_update(actor=dave, policy=policy, active=False)
    decision = services.decide(channel=channel, body="Lunch at noon")
    assert decision.blocked and decision.reasons == ["No policy governs this channel, so nothing may be posted to it."]


# --- 2. safe by default outside ------------------------------------------------------------------


@pytest.mark.parametrize("channel, template, expected", [
    (PUBLIC, "", engine.BLOCKED),
    (ChannelFacts(name="Partners", kind="slack", audience="private_group"), "", engine.BLOCKED),
    (INTERNAL, "", engine.ALLOWED),
    (PUBLIC, "Update on {number}: {title}", engine.BLOCKED),  # named, so checked: the title names a confidential service
])
def test_an_automatic_post_never_carries_the_title_unless_the_template_names_it(channel, template, expected):
    policy = PolicyFacts(id=1, name="Updates", block_personal_data=False, template=template)
    message = replace(INCIDENT, body="INC-000042: VPN drops every few minutes", ticket_title="VPN drops every few minutes")
    decision = engine.decide(channel, [policy], message, replace(CONTEXT, confidential_services=("VPN",)))
    assert decision.outcome == expected, decision.reasons
    if channel.audience != "internal" and not template:
        assert decision.reasons[0] == (
            "Names the ticket's title: automatic posts outside the desk leave it out unless the policy's template names {title}.")


def test_a_template_naming_the_title_lets_a_harmless_title_out():
    policy = PolicyFacts(id=1, name="Updates", template="{number}: {title}")
    message = replace(INCIDENT, ticket_title="New printers on floor 3")
    decision = engine.decide(PUBLIC, [policy], message, CONTEXT)
    assert decision.allowed and decision.text == "INC-000042: New printers on floor 3"


def test_an_automatic_post_never_names_the_requester_nor_quotes_the_description():
    policy = PolicyFacts(id=1, name="Updates", block_personal_data=False)
    named = replace(INCIDENT, body="Ticket INC-000042 of Alice Martin is closed.", requester=("Alice Martin", "alice"))
    assert engine.decide(PUBLIC, [policy], named, CONTEXT).reasons == [
        "Names the requester: automatic posts outside the desk never say who asked."]
    quoted = replace(INCIDENT, body="Closed: the printer on floor 3 jams", ticket_description="The printer on floor 3 jams")
    assert engine.decide(PUBLIC, [policy], quoted, CONTEXT).blocked
    by_a_person = replace(named, automatic=False)
    assert engine.decide(PUBLIC, [policy], by_a_person, CONTEXT).allowed, "a person's words are the reviewer's call"
    assert engine.decide(INTERNAL, [policy], named, CONTEXT).allowed


# --- 3. per-person updates where people are ------------------------------------------------------


@pytest.fixture
def chosen_x(alice, make_channel, make_policy):
    channel = make_channel(name="Desk on X", kind="x", audience="public", config={"bearer_token": "t"},
                           offered_to_requesters=True)
    make_policy(channel, name="Ticket updates", allowed_events=["ticket_replied", "ticket_status_changed", "ticket_resolved",
                                                                "ticket_closed"])
    services.external_channel_set(actor=alice, channel_id=channel.pk)
    return channel


def test_the_requester_hears_of_every_public_change_on_their_channel_with_no_details(alice, bob, chosen_x):
    from tickets.services import comment_add, ticket_create, ticket_update

    ticket = ticket_create(actor=alice, kind="incident", title="Finance application unavailable due to network outage",
                           description="Since 9am nothing loads")
    assert not chosen_x.posts.exists(), "opening it is the requester's own doing"
    comment_add(actor=bob, ticket=ticket, body="Looking into it", internal=False)
    comment_add(actor=bob, ticket=ticket, body="Internal: network team paged", internal=True)
    comment_add(actor=alice, ticket=ticket, body="Thanks")
    ticket_update(actor=bob, ticket=ticket, status="in_progress")
    ticket_update(actor=bob, ticket=ticket, status="resolved")
    ticket_update(actor=bob, ticket=ticket, status="closed")
    posts = list(chosen_x.posts.order_by("id"))
    n = ticket.number
    assert [(p.event, p.status, p.text) for p in posts] == [
        ("ticket_replied", "queued", f"There is a new reply on your ticket {n}."),
        ("ticket_status_changed", "queued", f"Your ticket {n} is now in progress."),
        ("ticket_status_changed", "queued", f"Your ticket {n} has been resolved."),
        ("ticket_closed", "queued", f"Your ticket {n} has been closed."),
    ]
    assert all(p.policies_applied == ["Ticket updates"] and p.created_by is None for p in posts)


def test_nothing_goes_to_a_requester_who_left_or_chose_nothing(alice, bob, dave, erin, chosen_x):
    from accounts.services import user_deactivate
    from tickets.services import comment_add, ticket_create

    theirs = ticket_create(actor=erin, kind="request", title="Mouse")
    comment_add(actor=bob, ticket=theirs, body="On its way")
    ticket = ticket_create(actor=alice, kind="request", title="Keyboard")
    user_deactivate(actor=dave, user=alice)
    comment_add(actor=bob, ticket=ticket, body="Ordered")
    assert not chosen_x.posts.exists()


def test_an_internal_channel_may_carry_the_title(alice, bob, make_channel, make_policy):
    from tickets.services import comment_add, ticket_create

    teams = make_channel(name="Staff Teams", kind="teams", audience="internal", offered_to_requesters=True)
    make_policy(teams, blocked_terms=[], block_personal_data=False)
    services.external_channel_set(actor=alice, channel_id=teams.pk)
    ticket = ticket_create(actor=alice, kind="request", title="Second screen")
    comment_add(actor=bob, ticket=ticket, body="Approved")
    assert teams.posts.get().text == f"There is a new reply on your ticket {ticket.number} (Second screen)."


def test_managers_get_the_channel_counts_in_two_queries(alice, dave, erin, make_user, make_channel, chosen_x,
                                                       django_assert_max_num_queries):
    from accounts.services import user_deactivate

    mail = make_channel(name="E-mail me", kind="email", audience="private_group", config={"to": ["x@example.com"]},
                        offered_to_requesters=True)
    make_channel(name="Never chosen", kind="slack", audience="private_group", offered_to_requesters=True)
    services.external_channel_set(actor=erin, channel_id=chosen_x.pk)
    gone = make_user("gone")
    services.external_channel_set(actor=gone, channel_id=mail.pk)
    user_deactivate(actor=dave, user=gone)
    services.external_channel_set(actor=make_user(), channel_id=mail.pk)
    with django_assert_max_num_queries(2):
        counts = selectors.external_channel_counts()
    assert [(c["name"], c["people"]) for c in counts] == [("Desk on X", 2), ("E-mail me", 1), ("Never chosen", 0)]


def test_status_channels_announce_with_neutral_texts(alice, bob, make_channel, make_policy):
    from tickets.services import ticket_create, ticket_update

    status = make_channel(name="Status hook", audience="public", announces_incidents=True)
    make_policy(status, allowed_events=["major_incident_opened", "ticket_resolved"], blocked_terms=[])
    ticket = ticket_create(actor=alice, kind="incident", title="Payroll slow for Alice Martin", impact=1, urgency=1,
                           visibility="public")
    ticket_update(actor=bob, ticket=ticket, status="resolved")
    assert list(status.posts.order_by("id").values_list("text", "status")) == [
        (f"Major incident {ticket.number} is being worked on.", "queued"),
        (f"{ticket.number} has been resolved.", "queued"),
    ]


# --- 4. separation of duties ---------------------------------------------------------------------


@pytest.fixture
def careful(make_channel, make_policy):
    channel = make_channel(name="Careful", audience="private_group")
    make_policy(channel, requires_approval=True)
    return channel


def test_a_reviewer_cannot_approve_their_own_post_while_another_reviewer_exists(api_as, dave, make_user, careful):
    from accounts.models import Role

    frank = make_user("frank", role=Role.ADMIN)
    post = services.outbound_create(actor=dave, channel=careful, body="Team lunch on Friday")
    refused = api_as(dave).post(f"/api/v1/outbound/{post.pk}/approve/", {}, format="json")
    assert refused.status_code == 403
    assert refused.json()["message"] == "You wrote this post, so another reviewer must approve it (separation of duties)."
    post.refresh_from_db()
    assert post.status == "pending_review" and not AuditEntry.objects.filter(post=post, action="approved").exists()
    approved = api_as(frank).post(f"/api/v1/outbound/{post.pk}/approve/", {}, format="json")
    assert approved.status_code == 200 and approved.json()["self_approved"] is False
    assert api_as(dave).post(f"/api/v1/outbound/{post.pk}/reject/", {}, format="json").status_code == 400


def test_a_manager_counts_as_another_reviewer(dave, carol, careful):
    post = services.outbound_create(actor=dave, channel=careful, body="Team lunch on Friday")
    with pytest.raises(Exception) as excinfo:
        services.outbound_approve(actor=dave, post=post)
    assert getattr(excinfo.value, "status", None) == 403
    assert services.outbound_approve(actor=carol, post=post).status == "queued"


def test_the_only_reviewer_may_approve_their_own_and_it_is_recorded(api_as, dave, bob, careful):
    post = services.outbound_create(actor=dave, channel=careful, body="Team lunch on Friday")
    approved = api_as(dave).post(f"/api/v1/outbound/{post.pk}/approve/", {"note": "alone today"}, format="json")
    assert approved.status_code == 200 and approved.json()["self_approved"] is True
    entry = AuditEntry.objects.get(post=post, action="approved")
    assert entry.note == "Approved by its own author, the only reviewer configured. alone today"


def test_the_author_is_offered_no_approve_button_but_another_reviewer_is(client, dave, carol, careful):
    post = services.outbound_create(actor=dave, channel=careful, body="Team lunch on Friday")
    client.force_login(dave)
    for path in (f"/communications/outbound/{post.pk}/", "/communications/review/"):
        page = client.get(path).content.decode()
        assert "another reviewer approves it" in page and f"Approve<span class=\"visually-hidden\"> post #{post.pk}" not in page
    client.force_login(carol)
    page = client.get(f"/communications/outbound/{post.pk}/").content.decode()
    assert f"Approve<span class=\"visually-hidden\"> post #{post.pk}" in page
    assert "Policies applied:</strong> Policy for Careful" in page
    assert client.post(f"/communications/outbound/{post.pk}/approve/").status_code == 302


def test_the_page_refuses_a_self_approval_with_the_reason(client, dave, carol, careful):
    post = services.outbound_create(actor=dave, channel=careful, body="Team lunch on Friday")
    client.force_login(dave)
    refused = client.post(f"/communications/outbound/{post.pk}/approve/")
    assert refused.status_code == 403 and "separation of duties" in refused.content.decode()


# --- preview and stored decisions show the scope --------------------------------------------------


def test_preview_and_posts_say_which_policies_applied_and_which_were_skipped(api_as, bob, dave):
    assert demo.seed(admin=dave)
    status = Channel.objects.get(name="Public status")
    preview = api_as(bob).post("/api/v1/outbound/preview/", {"channel": status.pk, "body": "E-mail maintenance Saturday"},
                               format="json").json()
    assert preview["held"] and preview["text"] == "E-mail maintenance Saturday"
    assert (preview["policies_applied"], preview["policies_skipped"]) == (["Public hand-written posts"], ["Public incident notices"])
    created = api_as(bob).post("/api/v1/outbound/", {"channel": status.pk, "body": "E-mail maintenance Saturday"},
                               format="json").json()
    detail = api_as(dave).get(f"/api/v1/outbound/{created['id']}/").json()
    assert detail["status"] == "pending_review" and detail["policies_skipped"] == ["Public incident notices"]


def test_the_page_preview_lists_the_skipped_policies(client, dave):
    demo.seed(admin=dave)
    status = Channel.objects.get(name="Public status")
    client.force_login(dave)
    fragment = client.post("/communications/preview/", {"preview-channel": status.pk, "preview-body": "Hello",
                                                         "preview-event": "manual_post"}).content.decode()
    assert "Held for review" in fragment
    assert "Skipped as out of scope:</strong> Public incident notices" in fragment


def test_the_demo_status_channel_announces_major_incidents_and_holds_hand_written_posts(alice, bob, dave):
    from tickets.services import ticket_create

    demo.seed(admin=dave)
    status = Channel.objects.get(name="Public status")
    ticket = ticket_create(actor=alice, kind="incident", title="Payroll portal down for everyone", impact=1, urgency=1,
                           visibility="public")
    announced = status.posts.get(event="major_incident_opened")
    assert announced.status == "queued"
    assert announced.text == f"Service update on {ticket.number}: major incident opened."
    held = services.outbound_create(actor=bob, channel=status, body="E-mail maintenance on Saturday 08:00 to 10:00.")
    assert held.status == "pending_review" and held.text == held.body
    outage = services.outbound_create(actor=bob, channel=status, body="E-mail outage on Saturday")
    assert outage.status == "blocked" and any("outage" in r for r in outage.reasons)


# --- the data migration -------------------------------------------------------------------------


def test_the_scope_migration_cleans_lists_and_tells_each_channel(dave, make_channel, make_policy):
    migration = importlib.import_module("policies.migrations.0003_policy_scope")
    channel = make_channel(name="Mixed")
    make_policy(channel, name="Incidents", allowed_events=["major_incident_opened"])
    Policy.objects.filter(name="Incidents").update(allowed_events=["major_incident_opened", "gone_kind", "major_incident_opened"])
    make_policy(channel, name="Posts", allowed_events=["manual_post"])
    make_channel(name="Ungoverned")
    migration.scope_policies(django_apps, None)
    assert Policy.objects.get(name="Incidents").allowed_events == ["major_incident_opened"]
    entry = AuditEntry.objects.get(channel=channel, action="policy_changed")
    assert entry.reasons == [
        "\u201cIncidents\u201d applies to: major incident opened.",
        "\u201cPosts\u201d applies to: manual post.",
        "No policy covers ticket resolved, ticket closed, maintenance notice, ticket replied, ticket status changed: "
        "such posts are blocked.",
    ]
    assert not AuditEntry.objects.filter(channel__name="Ungoverned", action="policy_changed").exists()
    assert OutboundPost.objects.count() == 0


def test_an_announcement_of_a_ticket_made_private_never_goes_out(alice, bob, carol, make_channel, make_policy):
    from tickets.services import ticket_create, ticket_update

    status = make_channel(name="Status hook", audience="public", announces_incidents=True)
    make_policy(status, allowed_events=["major_incident_opened"], blocked_terms=[], requires_approval=True)
    ticket = ticket_create(actor=alice, kind="incident", title="Printers", impact=1, urgency=1, visibility="public")
    held = status.posts.get()
    ticket_update(actor=bob, ticket=ticket, visibility="private")
    services.outbound_approve(actor=carol, post=held)
    assert services.outbound_deliver(post_id=held.pk) == "blocked"
    held.refresh_from_db()
    assert held.reasons == [f"{ticket.number} is no longer public, so it is not announced."]
