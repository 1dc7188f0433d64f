"""What the OpenAPI schema promises about every operation, and the API keeping to it at run time."""
import pytest
from drf_spectacular.generators import SchemaGenerator

from tickets import services as tickets

pytestmark = pytest.mark.django_db

ERROR_REF = {"$ref": "#/components/schemas/Error"}


@pytest.fixture(scope="module")
def document():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


def error_codes(operation) -> set[str]:
    return {code for code, response in operation["responses"].items()
            if response.get("content", {}).get("application/json", {}).get("schema") == ERROR_REF}


def test_every_operation_documents_its_errors_in_the_api_md_shape(document):
    assert document["components"]["schemas"]["Error"]["required"] == ["message"]
    for path, method, operation in operations(document):
        codes = error_codes(operation)
        where = f"{method} {path}"
        if path != "/api/v1/auth/token/" and not path.endswith("/webhook/"):
            assert "401" in codes, where
        if "{" in path:
            assert "404" in codes, where
        if method in {"POST", "PUT", "PATCH", "DELETE"}:
            assert "400" in codes, where
            if path != "/api/v1/auth/token/" and not path.endswith("/webhook/"):
                assert {"403", "429"} <= codes, where
        if any(p["in"] == "query" for p in operation.get("parameters", [])):
            assert "400" in codes, where
    token = document["paths"]["/api/v1/auth/token/"]["post"]
    assert {"400", "429"} <= error_codes(token) and "401" not in error_codes(token)


def test_admin_only_reads_document_403(document):
    for path in ("/api/v1/channels/", "/api/v1/policies/", "/api/v1/channels/{channel_id}/",
                 "/api/v1/communities/{slug}/removals/"):
        assert "403" in error_codes(document["paths"][path]["get"]), path
    assert "403" not in error_codes(document["paths"]["/api/v1/services/"]["get"])


def _resolve(document, schema):
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_lists_are_documented_as_the_envelope_they_are(document, api_as, alice):
    for path in ("/api/v1/services/", "/api/v1/tickets/", "/api/v1/channels/", "/api/v1/me/logins/"):
        schema = _resolve(document, document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"])
        assert schema["type"] == "object" and set(schema["required"]) == {"results", "next"}, path
        assert schema["properties"]["results"]["type"] == "array", path
    tickets.service_create(name="VPN")
    body = api_as(alice).get("/api/v1/services/").json()
    assert set(body) == {"results", "next"} and body["results"][0]["name"] == "VPN"


def test_text_input_documents_no_nul_and_not_only_white_space(document):
    title = _resolve(document, document["paths"]["/api/v1/tickets/"]["post"]["requestBody"]["content"]["application/json"]["schema"])["properties"]["title"]
    assert title["maxLength"] == 200 and "\\u0000" in title["pattern"] and "\\u0020" in title["pattern"]


def test_a_patch_body_is_documented_as_the_view_validates_it(document):
    post_edit = _resolve(document, document["paths"]["/api/v1/posts/{post_id}/"]["patch"]["requestBody"]["content"]["application/json"]["schema"])
    assert post_edit["required"] == ["body"]
    channel_patch = _resolve(document, document["paths"]["/api/v1/channels/{channel_id}/"]["patch"]["requestBody"]["content"]["application/json"]["schema"])
    assert not channel_patch.get("required")


@pytest.mark.parametrize("body, field", [
    ({"kind": "incident", "title": "VPN", "impact": "2", "urgency": 2}, "impact"),
    ({"kind": "incident", "title": "VPN", "impact": 2, "urgency": True}, "urgency"),
    ({"kind": "incident", "title": 5, "impact": 2, "urgency": 2}, "title"),
    ({"kind": "incident", "title": "VPN", "impact": 2, "urgency": 2, "visibility": 1}, "visibility"),
])
def test_a_body_the_schema_forbids_is_400_even_where_a_field_would_coerce_it(api_as, alice, body, field):
    response = api_as(alice).post("/api/v1/tickets/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"] and response.json()["message"] == "Invalid input."


def test_a_body_the_schema_allows_is_still_accepted(api_as, alice):
    response = api_as(alice).post("/api/v1/tickets/", {"kind": "incident", "title": "VPN", "impact": 2, "urgency": 2},
                                  format="json")
    assert response.status_code == 201


@pytest.mark.parametrize("query, field", [
    ("page_size=abc", "page_size"), ("page_size=null", "page_size"), ("page_size=1&page_size=2", "page_size"),
])
def test_a_query_parameter_the_schema_forbids_is_400(api_as, alice, query, field):
    response = api_as(alice).get(f"/api/v1/notifications/?{query}")
    assert response.status_code == 400 and field in response.json()["errors"]


def test_ticket_filters_follow_their_documented_enums(api_as, bob):
    client = api_as(bob)
    assert client.get("/api/v1/tickets/?status=new,pending&status=closed&following=true").status_code == 200
    for query in ("following=yes", "sort=drop", "team=abc", "team=0", "page=1000001"):
        response = client.get(f"/api/v1/tickets/?{query}")
        assert response.status_code == 400, query
        assert query.split("=")[0] in response.json()["errors"], query


def test_page_size_out_of_range_is_clamped(api_as, alice):
    assert api_as(alice).get("/api/v1/notifications/?page_size=-5").status_code == 200
    assert api_as(alice).get("/api/v1/notifications/?page_size=100000").status_code == 200


def test_unmuting_takes_the_query_string(api_as, alice):
    client = api_as(alice)
    assert client.post("/api/v1/mutes/", {"type": "tag", "key": "printers"}, format="json").status_code == 200
    assert client.delete("/api/v1/mutes/?type=tag&key=printers").status_code == 204
    assert client.delete("/api/v1/mutes/?type=service&key=1").status_code == 400


def test_a_time_zone_is_one_of_the_named_zones(api_as, alice, document):
    schema = _resolve(document, document["paths"]["/api/v1/me/notification-preferences/"]["put"]["requestBody"]["content"]["application/json"]["schema"])
    time_zone = schema["properties"]["time_zone"]
    assert "Europe/Berlin" in _resolve(document, time_zone.get("allOf", [time_zone])[0])["enum"]
    client = api_as(alice)
    assert client.put("/api/v1/me/notification-preferences/", {"time_zone": "Europe/Berlin"}, format="json").status_code == 200
    response = client.put("/api/v1/me/notification-preferences/", {"time_zone": "Mars/Olympus"}, format="json")
    assert response.status_code == 400 and "time_zone" in response.json()["errors"]


def test_a_method_the_schema_does_not_list_is_405_with_an_allow_header(document, api_as, dave):
    """What schemathesis's unsupported_method and allow_header_conformance checks demand, for every path."""
    import re

    client = api_as(dave)
    for path, item in document["paths"].items():
        url = re.sub(r"\{[^}]+\}", "1", path)
        documented = {method.upper() for method in item}
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - documented:
            response = getattr(client, method.lower())(url)
            assert response.status_code == 405, (method, path, response.status_code)
            assert response.json()["message"], (method, path)
            allowed = {m.strip() for m in response["Allow"].split(",")}
            assert documented <= allowed, (method, path, allowed)
