"""Host names, precisely: real ones are caught, words that merely look like them are not."""
import pytest

from policies import detectors, services

LOOK_ALIKES = [
    "covid-19", "COVID-19", "covid19", "e-mail", "Wi-Fi", "Wi-Fi 6", "v2.3.1", "version 2.4.1", "Python 3.12", "12.03.2026",
    "2026-04-15", "15/03/2026", "3.5-inch", "utf-8", "UTF-8", "sha-256", "Windows-11", "win10", "x86-64", "top-10",
    "USB-C", "A4", "db2", "DB2", "mysql8", "Web-2.0", "readme.md", "setup.py", "install.sh", "Node.js", "ASP.NET",
    "e.g.", "i.e.", "at 8.am", "done.No more", "INC-000123", "REQ-000789", "ISO-27001", "CVE-2024-3094", "Office 365",
]
HOSTS = [
    "srv-fin-01", "fin-db01", "srv-app-03", "srv-build-07", "SQL-PRD-03", "k8s-node-07", "lab-pc-007", "prn_floor2_01",
    "SRV_APP_12", "PAYSQL02", "mail01", "web03", "FS01", "mail01.corp.local", "MAIL02.CORP.LOCAL", "ldap.internal",
    "intranet.lan", "nas-02.corp", "payroll.corp.internal", "build.acme.de", "vpn-gw.mycorp.io", "dc01.ad.example.net",
    "grafana.ops.example.com",
]


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_are_not_host_names(text):
    found = detectors.find_personal_data(f"See {text} for details")
    assert [f for f in found if f.kind == detectors.HOST] == [], found


@pytest.mark.parametrize("host", HOSTS)
def test_real_host_names_are_caught_in_a_sentence(host):
    found = detectors.find_personal_data(f"The alert came from {host}, again.")
    assert [(f.kind, f.value) for f in found] == [(detectors.HOST, host)]


def test_a_host_in_an_address_is_caught_and_public_hosts_are_not():
    found = detectors.find_personal_data("Dashboards at https://grafana.ops.example.com/d/abc and https://status.example.com/",
                                         public_hosts=frozenset({"status.example.com"}))
    assert [(f.kind, f.value) for f in found] == [(detectors.HOST, "grafana.ops.example.com")]


def test_internal_suffixes_are_configurable():
    text = "Restarted the agent on build7.ad.mycompany"
    assert detectors.find_personal_data(text) == [], "not a real top-level domain, not a default internal suffix"
    found = detectors.find_personal_data(text, internal_domains=("ad.mycompany",))
    assert [(f.kind, f.value) for f in found] == [(detectors.HOST, "build7.ad.mycompany")]
    assert detectors.find_personal_data("Restarted it on ad.mycompany", internal_domains=("ad.mycompany",)) == [], \
        "the suffix alone names no host"


@pytest.mark.django_db
def test_the_setting_reaches_the_engine_and_the_dlp_scan(settings, bob, public_channel):
    text = "The agent on build7.ad.mycompany is patched"
    assert services.outbound_preview(actor=bob, channel=public_channel, body=text).allowed
    assert services.dlp_scan(author=bob, kind="feeds.post", object_id=1, text=text) is None
    settings.POLICIES_INTERNAL_DOMAINS = ["corp", "ad.mycompany"]
    decision = services.outbound_preview(actor=bob, channel=public_channel, body=text)
    assert decision.blocked and any("a host name" in r for r in decision.reasons)
    flag = services.dlp_scan(author=bob, kind="feeds.post", object_id=1, text=text)
    assert flag is not None and flag.findings[0]["kind"] == "host" and "mycompany" not in flag.findings[0]["sample"]


def test_long_inputs_stay_fast():
    import time

    started = time.monotonic()
    detectors.find_personal_data("srv-" * 4000 + "01 " + "a" * 5000 + "1")
    assert time.monotonic() - started < 2
