"""A URLconf with nothing in it, for tests that switch URLconfs."""
urlpatterns: list = []
