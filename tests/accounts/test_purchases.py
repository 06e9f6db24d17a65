"""Purchase records and eligibility for free basic support."""

from __future__ import annotations

from accounts.roles import Role
from tests.world import World

HEADER = "product,purchased_on,channel,partner_name,reference\n"


async def test_sales_records_a_direct_purchase(world: World) -> None:
    org = await world.organization()
    _, sales = await world.staff(Role.SALES)
    response = await world.client.post(
        f"/v1/organizations/{org.id}/purchases",
        json={
            "product": "Mobile Server",
            "purchased_on": "2018-02-01",
            "channel": "direct",
            "reference": "INV-1",
        },
        headers=sales,
    )
    assert response.status_code == 201
    assert response.json()["channel"] == "direct"


async def test_partner_purchase_needs_the_partner_name(world: World) -> None:
    org = await world.organization()
    _, sales = await world.staff(Role.SALES)
    response = await world.client.post(
        f"/v1/organizations/{org.id}/purchases",
        json={
            "product": "Mobile Server",
            "purchased_on": "2018-02-01",
            "channel": "partner",
            "reference": "P-1",
        },
        headers=sales,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "partner_name"


async def test_duplicate_purchase_reference_is_a_conflict(world: World) -> None:
    org = await world.organization()
    _, sales = await world.staff(Role.SALES)
    body = {
        "product": "Mobile Server",
        "purchased_on": "2018-02-01",
        "channel": "direct",
        "reference": "INV-7",
    }
    await world.client.post(f"/v1/organizations/{org.id}/purchases", json=body, headers=sales)
    response = await world.client.post(f"/v1/organizations/{org.id}/purchases", json=body, headers=sales)
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_purchase"


async def test_csv_import_records_every_row(world: World) -> None:
    org = await world.organization()
    _, sales = await world.staff(Role.SALES)
    csv = (
        HEADER
        + "Mobile Server,2017-05-01,partner,SoftPartner (closed),SP-1\n"
        + "Mobile Server,2021-01-10,direct,,INV-9\n"
    )
    response = await world.client.post(
        f"/v1/organizations/{org.id}/purchases/import",
        content=csv.encode(),
        headers={**sales, "content-type": "text/csv"},
    )
    assert response.status_code == 201
    assert response.json()["imported"] == 2


async def test_a_csv_preview_answers_what_it_would_record_and_stores_nothing(world: World) -> None:
    org = await world.organization()
    _, sales = await world.staff(Role.SALES)
    csv = HEADER + "Mobile Server,2021-01-10,direct,,INV-9\n"
    response = await world.client.post(
        f"/v1/organizations/{org.id}/purchases/import",
        params={"preview": "true"},
        content=csv.encode(),
        headers={**sales, "content-type": "text/csv"},
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["imported"], body["preview"]) == (0, True)
    assert [(p["reference"], p["channel"]) for p in body["items"]] == [("INV-9", "direct")]
    listing = await world.client.get(f"/v1/organizations/{org.id}/purchases", headers=sales)
    assert listing.json()["items"] == []


async def test_a_csv_preview_of_a_bad_file_names_each_problem(world: World) -> None:
    org = await world.organization()
    _, sales = await world.staff(Role.SALES)
    csv = HEADER + "Mobile Server,not-a-date,direct,,BAD-1\n"
    response = await world.client.post(
        f"/v1/organizations/{org.id}/purchases/import",
        params={"preview": "true"},
        content=csv.encode(),
        headers={**sales, "content-type": "text/csv"},
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["line 2.row"]


async def test_csv_with_a_bad_row_imports_nothing_and_names_each_problem(world: World) -> None:
    org = await world.organization()
    _, sales = await world.staff(Role.SALES)
    csv = (
        HEADER
        + "Mobile Server,2017-05-01,direct,,OK-1\n"
        + "Mobile Server,not-a-date,direct,,BAD-1\n"
        + "Mobile Server,2017-05-01,partner,,BAD-2\n"
        + "Mobile Server,2017-05-01,direct,,OK-1\n"
    )
    response = await world.client.post(
        f"/v1/organizations/{org.id}/purchases/import",
        content=csv.encode(),
        headers={**sales, "content-type": "text/csv"},
    )
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["line 3.row", "line 4.partner_name", "line 5.reference"]
    listing = await world.client.get(f"/v1/organizations/{org.id}/purchases", headers=sales)
    assert listing.json()["items"] == []


async def test_csv_with_a_wrong_header_is_refused(world: World) -> None:
    org = await world.organization()
    _, sales = await world.staff(Role.SALES)
    response = await world.client.post(
        f"/v1/organizations/{org.id}/purchases/import",
        content=b"name,date\nx,y\n",
        headers={**sales, "content-type": "text/csv"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "purchase_import_failed"


async def test_organization_without_purchases_is_not_eligible_and_told_why(world: World) -> None:
    org = await world.organization()
    user = await world.user(Role.CUSTOMER_USER, org)
    response = await world.client.get(
        f"/v1/organizations/{org.id}/eligibility", headers=await world.headers(user)
    )
    body = response.json()
    assert body["eligible"] is False
    assert "No purchase" in body["reason"]
    assert body["purchase"] is None


async def test_purchase_through_a_former_partner_makes_the_company_eligible(world: World) -> None:
    org = await world.organization()
    _, sales = await world.staff(Role.SALES)
    await world.client.post(
        f"/v1/organizations/{org.id}/purchases",
        json={
            "product": "Mobile Server",
            "purchased_on": "2015-09-01",
            "channel": "partner",
            "partner_name": "GoneSoft (liquidated)",
            "reference": "GS-15",
        },
        headers=sales,
    )
    body = (await world.client.get(f"/v1/organizations/{org.id}/eligibility", headers=sales)).json()
    assert body["eligible"] is True
    assert "GoneSoft (liquidated)" in body["reason"]
    assert body["purchase"]["reference"] == "GS-15"
