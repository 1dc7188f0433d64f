"""The default rules and badges. Managers edit the rules afterwards; running this again never
overwrites their changes."""
from django.db import migrations


def seed(apps, schema_editor):
    from gamification import defaults

    Rule = apps.get_model("gamification", "Rule")
    Badge = apps.get_model("gamification", "Badge")
    rules = {}
    for slug, (name, points, cap, description) in defaults.RULES.items():
        rules[slug], _ = Rule.objects.get_or_create(
            slug=slug, defaults={"name": name, "points": points, "daily_cap": cap, "description": description}
        )
    for slug, (name, rule, kind, bronze, silver, gold, description) in defaults.BADGES.items():
        Badge.objects.get_or_create(slug=slug, defaults={
            "name": name, "rule": rules[rule], "kind": kind, "bronze": bronze, "silver": silver, "gold": gold,
            "description": description,
        })


class Migration(migrations.Migration):
    dependencies = [("gamification", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
