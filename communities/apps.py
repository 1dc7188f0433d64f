from django.apps import AppConfig


class CommunitiesConfig(AppConfig):
    name = "communities"
    verbose_name = "Communities"

    def ready(self):
        from feeds import audience, fanout, streams, walls
        from servicedesk.errors import NotVisible

        from . import selectors
        from .models import Community, Membership

        audience.register_group_provider(selectors.member_groups)

        def members(group: str, user_ids: list[int]) -> set[int]:
            slug = group.split(":", 1)[1]
            return set(Membership.objects.filter(community__slug=slug, user_id__in=user_ids).values_list("user_id", flat=True))

        fanout.register_group_members("community", members)

        def community_wall(viewer, key: str) -> walls.Wall:
            community = Community.objects.filter(slug=key).first()
            if community is None or not selectors.can_read(viewer, community):
                raise NotVisible()
            from .services import community_audience

            return walls.Wall(
                type="community", key=community.slug, title=community.name, audience=community_audience(community),
                target_id=community.pk, url=community.get_absolute_url(),
                posting_refused=selectors.REMOVED_MESSAGE if selectors.is_barred(viewer, community) else "",
            )

        walls.register("community", community_wall)

        def may_see(user, key: str) -> bool:
            community = Community.objects.filter(slug=key).first()
            return community is not None and selectors.can_read(user, community)

        streams.register("community", may_see)

        def may_read_question(user, key: str) -> bool:
            if not key.isdecimal():
                return False
            try:
                selectors.question_get(user=user, question_id=int(key))
            except NotVisible:
                return False
            return True

        streams.register("question", may_read_question)

        from servicedesk import hooks

        from . import home

        hooks.subscribe(hooks.home_sections, home.home_sections)
