import pytest

from tickets import services as tickets


@pytest.fixture
def vpn_service(db, bob):
    return tickets.service_create(name="VPN", owner_team=bob.team)
