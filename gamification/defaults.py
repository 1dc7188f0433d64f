"""The rules and badges a new installation starts with (seeded by a data migration; managers
edit the rules afterwards). Kept in code too, so a rule missing from the table is recreated
with its default rather than failing the write that earns it."""
from __future__ import annotations

# slug: (name, points, daily cap in points (0: none), description)
RULES: dict[str, tuple[str, int, int, str]] = {
    "ticket_resolved": ("Resolved a ticket", 10, 0, "The assignee resolves a ticket someone else logged."),
    "resolved_within_sla": ("Resolved within SLA", 5, 0, "Resolved before the resolution target, never breached."),
    "first_contact_resolution": ("First-contact resolution", 5, 0, "Resolved at the first go, with at most one public reply."),
    "novel_problem": ("Solved something new", 15, 0,
                      "No similar resolved ticket or knowledge article existed: new knowledge for the desk."),
    "desk_visit": ("Visited a user at their desk", 5, 25, "An agent logged a desk visit on a ticket."),
    "satisfaction_positive": ("Happy requester", 10, 0, "The requester rated the resolution 4 or 5."),
    "satisfaction_negative": ("Unhappy requester", -5, 0, "The requester rated the resolution 1 or 2."),
    "answer_upvoted": ("Answer upvoted", 2, 20, "Someone voted an answer up."),
    "answer_accepted": ("Answer accepted", 15, 0, "The asker or a moderator accepted the answer."),
    "article_published": ("Article published", 10, 30, "A knowledge article was published."),
    "article_helpful": ("Article marked helpful", 3, 30, "Someone said an article helped."),
    "like_received": ("Like received", 1, 10, "Someone liked a post."),
    "deflection": ("Ticket avoided", 5, 25, "Someone found the answer in an article instead of logging a ticket."),
    "bounty": ("Bounty claimed", 0, 0, "Resolved a problem that carried a bounty (the bounty sets the points)."),
    "quest_completed": ("Quest completed", 0, 0, "Reached a campaign's goal (the campaign sets the bonus)."),
}

# Rules whose points come from another person's judgement of someone's work: these feed
# influence and are watched for repeated votes between the same two people.
ENGAGEMENT_RULES = frozenset(
    {"satisfaction_positive", "answer_upvoted", "answer_accepted", "article_helpful", "like_received", "deflection"}
)

# slug: (name, rule, kind, bronze, silver, gold, description)
BADGES: dict[str, tuple[str, str, str, int, int | None, int | None, str]] = {
    "first-fix": ("First Fix", "ticket_resolved", "first", 1, None, None, "Resolved a first ticket."),
    "problem-solver": ("Problem Solver", "ticket_resolved", "count", 10, 50, 200, "Resolved tickets."),
    "pathfinder": ("Pathfinder", "novel_problem", "count", 1, 10, 50, "Solved problems nobody had solved before."),
    "on-the-floor": ("On the Floor", "desk_visit", "count", 5, 25, 100, "Visited people at their desks."),
    "crowd-pleaser": ("Crowd Pleaser", "satisfaction_positive", "count", 5, 25, 100, "Requesters rated the fix 4 or 5."),
    "steady-hand": ("Steady Hand", "ticket_resolved", "streak", 3, 7, 20, "Resolved tickets on consecutive days."),
    "helping-hand": ("Helping Hand", "answer_accepted", "count", 1, 10, 50, "Answers accepted in communities."),
    "author": ("Author", "article_published", "count", 1, 5, 20, "Published knowledge articles."),
    "deflector": ("Deflector", "deflection", "count", 1, 10, 100, "Articles that saved someone a ticket."),
}

# Level n needs LEVELS[n - 1] points.
LEVELS: list[tuple[int, str]] = [
    (0, "Newcomer"),
    (50, "Contributor"),
    (150, "Regular"),
    (400, "Trusted"),
    (1000, "Expert"),
    (2500, "Veteran"),
    (5000, "Master"),
    (10000, "Legend"),
]

# Anti-gaming: more than this many engagement entries between the same two people (either
# direction) within the window, and the extra ones are reversed.
PAIR_LIMIT = 5
PAIR_WINDOW_DAYS = 7

# Influence: weight per kind of engagement received, over this window.
INFLUENCE_WINDOW_DAYS = 90
INFLUENCE_WEIGHTS: dict[str, int] = {
    "answer_accepted": 5,
    "deflection": 4,
    "article_helpful": 3,
    "satisfaction_positive": 3,
    "answer_upvoted": 2,
    "like_received": 1,
}
# At most this many engagements of one kind count per distinct person engaging.
INFLUENCE_PER_PERSON = 3
INFLUENCE_BREADTH_WEIGHT = 2
