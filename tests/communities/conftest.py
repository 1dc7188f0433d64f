import pytest
from django.test import Client

from communities import services


@pytest.fixture
def client_for(db):
    def sign_in(user):
        client = Client()
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def open_community(erin):
    return services.community_create(actor=erin, name="Excel wizards", slug="excel", description="Formulas and macros")


@pytest.fixture
def private_community(erin):
    return services.community_create(actor=erin, name="Finance power users", slug="finance", visibility="private")
