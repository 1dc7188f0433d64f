import pytest

from tickets import services


@pytest.fixture
def vpn(db, bob):
    return services.service_create(name="VPN", description="Remote access", owner_team=bob.team)


@pytest.fixture
def open_ticket(db):
    def make(actor, **kwargs):
        defaults = {"kind": "incident", "title": "Printer on fire", "description": "It *smokes*.", "impact": 2, "urgency": 2}
        return services.ticket_create(actor=actor, **{**defaults, **kwargs})

    return make
