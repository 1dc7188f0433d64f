from django.apps import AppConfig


class CommunitiesConfig(AppConfig):
    name = "communities"
    verbose_name = "Communities"

    def ready(self):
        from feeds import audience, fanout, walls
        from feeds import streams as feed_streams

        from . import selectors, streams

        audience.register_group_provider(selectors.member_groups, many=selectors.member_groups_many)
        fanout.register_group_members("community", streams.members)
        walls.register("community", streams.community_wall)
        feed_streams.register("community", streams.may_see)
        feed_streams.register("question", streams.may_read_question)

        from tickets import knowledge

        from . import views

        knowledge.provide(
            article_suggestions=selectors.article_suggestions, community_search=selectors.community_search,
            deflect_to_article=views.deflect_to_article,
        )

        from tickets.selectors import social_provider

        social_provider("communities", selectors.social_communities)
        social_provider("knowledge", selectors.social_knowledge, on_demand=True)

        from servicedesk import hooks

        from . import home

        hooks.subscribe(hooks.home_sections, home.home_sections)
