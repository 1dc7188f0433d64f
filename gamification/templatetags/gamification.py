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
