from django import template

from .. import selectors

register = template.Library()


@register.inclusion_tag("gamification/_achievements.html")
def achievements_card(person):
    """Points, level, badges, influence (explained) and recent badges of a person."""
    standing = selectors.standing_for([person])[person.pk]
    return {
        "person": person,
        "standing": standing,
        "influence": selectors.influence_of(person),
        "recent": selectors.recent_badges(person),
    }


@register.inclusion_tag("gamification/_bounty.html", takes_context=True)
def bounty_card(context, ticket, form=None):
    """The bounty on a problem, who collected it, and (for managers, while it is open) the control
    that sets it. Agents see the bounty they could earn; other people see nothing."""
    from ..views import BountyForm

    user = context["request"].user
    if ticket.kind != "problem" or not getattr(user, "is_agent", False):
        return {"show": False}
    bounty, collected = selectors.bounty_of(ticket)
    can_set = user.is_manager and ticket.is_open
    if can_set and form is None:
        form = BountyForm(initial={"points": bounty.points if bounty else 100, "note": bounty.note if bounty else ""})
    return {
        "show": bounty is not None or can_set, "ticket": ticket, "bounty": bounty, "collected": collected,
        "form": form if can_set else None, "refused": form if form is not None and form.errors else None,
        "csrf_token": context.get("csrf_token"),
    }
