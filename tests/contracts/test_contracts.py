"""Sales define SLA contracts: drafts they edit, activation once complete, amendments that keep the
history, termination from a day; customers read their own once active; the database refuses two
active contracts of one organisation on the same day."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col

from accounts.models import AuditEvent
from accounts.roles import Role, Scope
from contracts.models import Contract, ContractState, ContractVersion
from tests.contracts.helpers import active_contract, complete_terms, contract_body, sales, target
from tests.world import World


async def _versions(world: World, contract_id: str) -> int:
    async with world.session() as session:
        return len(
            (
                await session.scalars(
                    sa.select(ContractVersion).where(
                        col(ContractVersion.contract_id) == uuid.UUID(contract_id)
                    )
                )
            ).all()
        )


async def _state(world: World, contract_id: str) -> ContractState:
    async with world.session() as session:
        contract = await session.get(Contract, uuid.UUID(contract_id))
        assert contract is not None
        return contract.state


async def test_sales_draft_a_contract_with_its_terms_and_an_etag(world: World) -> None:
    headers = await sales(world)
    organization = await world.organization()
    response = await world.client.post("/v1/contracts", json=contract_body(organization), headers=headers)
    assert response.status_code == 201
    assert response.headers["ETag"] == '"1"'
    body = response.json()
    assert body["status"] == "draft"
    assert body["in_force"] is False
    assert body["terms"]["priorities"]["P1"]["first_response_minutes"] == 30
    assert [v["version"] for v in body["versions"]] == [1]


async def test_a_draft_may_be_incomplete_but_activating_it_lists_everything_missing(world: World) -> None:
    headers = await sales(world)
    organization = await world.organization()
    terms = complete_terms(priorities={"P1": target(30, 60, 240, "Down")})
    del terms["responsibilities"]
    draft = await world.client.post(
        "/v1/contracts", json=contract_body(organization, terms=terms, signed_on=None), headers=headers
    )
    assert draft.status_code == 201
    response = await world.client.post(f"/v1/contracts/{draft.json()['id']}/activate", headers=headers)
    assert response.status_code == 422
    assert response.json()["code"] == "contract_incomplete"
    assert {e["field"] for e in response.json()["errors"]} == {
        "signed_on",
        "terms.responsibilities",
        "terms.priorities.P2",
        "terms.priorities.P3",
        "terms.priorities.P4",
    }
    assert await _state(world, draft.json()["id"]) == ContractState.DRAFT


async def test_a_contract_ending_before_it_starts_is_refused_and_not_recorded(world: World) -> None:
    headers = await sales(world)
    organization = await world.organization()
    body = contract_body(organization, starts_on=date(2026, 3, 1), ends_on=date(2026, 2, 1))
    response = await world.client.post("/v1/contracts", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "ends_on"
    async with world.session() as session:
        assert (await session.scalars(sa.select(Contract))).first() is None


async def test_a_resolution_target_shorter_than_the_first_response_is_refused(world: World) -> None:
    headers = await sales(world)
    organization = await world.organization()
    terms = complete_terms()
    terms["priorities"]["P2"] = target(120, 240, 60, "A key function fails")
    response = await world.client.post(
        "/v1/contracts", json=contract_body(organization, terms=terms), headers=headers
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert [e["field"] for e in response.json()["errors"]] == ["terms.priorities.P2.resolution_minutes"]


async def test_named_coverage_accepts_only_users_of_the_organisation(world: World) -> None:
    headers = await sales(world)
    organization, other = await world.organization(), await world.organization()
    outsider = await world.user(Role.CUSTOMER_USER, other)
    terms = complete_terms(coverage={"kind": "named", "user_ids": [str(outsider.id)]})
    response = await world.client.post(
        "/v1/contracts", json=contract_body(organization, terms=terms), headers=headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "terms.coverage.user_ids"


async def test_a_second_active_contract_on_the_same_days_is_refused(world: World) -> None:
    headers = await sales(world)
    organization = await world.organization()
    await active_contract(world, organization)
    overlapping = await world.client.post(
        "/v1/contracts",
        json=contract_body(organization, starts_on=date(2026, 12, 1), ends_on=date(2027, 11, 30)),
        headers=headers,
    )
    response = await world.client.post(f"/v1/contracts/{overlapping.json()['id']}/activate", headers=headers)
    assert response.status_code == 409
    assert response.json()["code"] == "contracts_overlap"
    assert await _state(world, overlapping.json()["id"]) == ContractState.DRAFT


async def test_a_contract_that_follows_the_previous_one_activates(world: World) -> None:
    organization = await world.organization()
    await active_contract(world, organization, ends_on=date(2026, 12, 31))
    following = await active_contract(
        world, organization, starts_on=date(2027, 1, 1), ends_on=date(2027, 12, 31)
    )
    assert following["status"] == "active"


async def test_an_active_contract_is_not_edited_but_amended(world: World) -> None:
    headers = await sales(world)
    contract = await active_contract(world, await world.organization())
    response = await world.client.patch(
        f"/v1/contracts/{contract['id']}", json={"terms": {"monthly_fee_minor": 1}}, headers=headers
    )
    assert response.status_code == 409
    assert response.json()["code"] == "contract_not_draft"
    assert response.json()["amendments"] == f"/v1/contracts/{contract['id']}/amendments"


async def test_editing_a_draft_with_a_stale_etag_is_refused_and_changes_nothing(world: World) -> None:
    headers = await sales(world)
    draft = (
        await world.client.post(
            "/v1/contracts", json=contract_body(await world.organization()), headers=headers
        )
    ).json()
    first = await world.client.patch(
        f"/v1/contracts/{draft['id']}",
        json={"terms": {"monthly_fee_minor": 20_000_000}},
        headers={**headers, "If-Match": '"1"'},
    )
    assert first.status_code == 200
    assert first.headers["ETag"] == '"2"'
    stale = await world.client.patch(
        f"/v1/contracts/{draft['id']}",
        json={"terms": {"monthly_fee_minor": 1}},
        headers={**headers, "If-Match": '"1"'},
    )
    assert stale.status_code == 412
    current = await world.client.get(f"/v1/contracts/{draft['id']}", headers=headers)
    assert current.json()["terms"]["monthly_fee_minor"] == 20_000_000


async def test_an_amendment_takes_effect_on_its_day_and_keeps_the_signed_terms(world: World) -> None:
    contract = await active_contract(world, await world.organization())
    world.clock.current = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    headers = await sales(world)  # tokens live 14 days; the clock moved further
    response = await world.client.post(
        f"/v1/contracts/{contract['id']}/amendments",
        json={
            "effective_from": "2026-04-01",
            "reason": "More included hours for the season",
            "terms": {"included_session_minutes": 600},
        },
        headers=headers,
    )
    assert response.status_code == 201
    body = response.json()
    assert [(v["version"], v["effective_from"]) for v in body["versions"]] == [
        (1, "2026-02-01"),
        (2, "2026-04-01"),
    ]
    assert body["terms"]["included_session_minutes"] == 240  # March: the signed terms
    assert body["versions"][1]["terms"]["priorities"] == body["versions"][0]["terms"]["priorities"]
    world.clock.current = datetime(2026, 4, 1, 6, 0, tzinfo=UTC)  # 09:00 in Moscow
    headers = await sales(world)  # tokens live 14 days; the clock moved further
    current = (await world.client.get(f"/v1/contracts/{contract['id']}", headers=headers)).json()
    assert (current["version_in_force"], current["terms"]["included_session_minutes"]) == (2, 600)


async def test_an_amendment_effective_in_the_past_is_refused_and_adds_no_version(world: World) -> None:
    contract = await active_contract(world, await world.organization())
    world.clock.current = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    headers = await sales(world)  # tokens live 14 days; the clock moved further
    response = await world.client.post(
        f"/v1/contracts/{contract['id']}/amendments",
        json={"effective_from": "2026-03-01", "reason": "Backdated", "terms": {"monthly_fee_minor": 1}},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "effective_from"
    assert await _versions(world, contract["id"]) == 1


async def test_an_amendment_that_breaks_a_rule_is_refused(world: World) -> None:
    headers = await sales(world)
    contract = await active_contract(world, await world.organization())
    response = await world.client.post(
        f"/v1/contracts/{contract['id']}/amendments",
        json={
            "effective_from": "2026-03-01",
            "reason": "Faster P1",
            "terms": {"priorities": {"P1": target(30, 60, 10, "Down")}},
        },
        headers=headers,
    )
    assert response.status_code == 422
    assert "terms.priorities.P1.resolution_minutes" in {e["field"] for e in response.json()["errors"]}
    assert await _versions(world, contract["id"]) == 1


async def test_termination_takes_effect_on_its_day_with_its_reason_and_is_audited(world: World) -> None:
    contract = await active_contract(world, await world.organization())
    world.clock.current = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
    headers = await sales(world)  # tokens live 14 days; the clock moved further
    response = await world.client.post(
        f"/v1/contracts/{contract['id']}/terminate",
        json={"effective_on": "2026-06-01", "reason": "The customer moved to another product"},
        headers=headers,
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["terminated_on"]) == ("active", "2026-06-01")
    world.clock.current = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
    headers = await sales(world)  # tokens live 14 days; the clock moved further
    after = (await world.client.get(f"/v1/contracts/{contract['id']}", headers=headers)).json()
    assert (after["status"], after["in_force"]) == ("terminated", False)
    async with world.session() as session:
        actions = (
            await session.scalars(
                sa.select(col(AuditEvent.action)).where(col(AuditEvent.subject_id) == contract["id"])
            )
        ).all()
    assert {"contract_drafted", "contract_activated", "contract_terminated"} <= set(actions)


async def test_terminating_a_draft_is_refused(world: World) -> None:
    headers = await sales(world)
    draft = (
        await world.client.post(
            "/v1/contracts", json=contract_body(await world.organization()), headers=headers
        )
    ).json()
    response = await world.client.post(
        f"/v1/contracts/{draft['id']}/terminate",
        json={"effective_on": "2026-06-01", "reason": "Never signed"},
        headers=headers,
    )
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_contract_transition"


async def test_a_contract_past_its_last_day_reads_as_expired(world: World) -> None:
    contract = await active_contract(world, await world.organization(), ends_on=date(2026, 6, 30))
    world.clock.current = datetime(2026, 6, 30, 20, 59, tzinfo=UTC)  # 23:59 in Moscow: still the last day
    headers = await sales(world)  # tokens live 14 days; the clock moved further
    headers = await sales(world)
    assert (await world.client.get(f"/v1/contracts/{contract['id']}", headers=headers)).json()[
        "status"
    ] == "active"
    world.clock.advance(timedelta(minutes=1))
    assert (await world.client.get(f"/v1/contracts/{contract['id']}", headers=headers)).json()[
        "status"
    ] == "expired"


async def test_customers_read_their_organisations_contracts_once_active_and_never_drafts(
    world: World,
) -> None:
    headers = await sales(world)
    organization = await world.organization()
    customer = await world.headers(await world.user(Role.CUSTOMER_USER, organization))
    draft = (
        await world.client.post("/v1/contracts", json=contract_body(organization), headers=headers)
    ).json()
    assert (await world.client.get(f"/v1/contracts/{draft['id']}", headers=customer)).status_code == 404
    assert (await world.client.get("/v1/contracts", headers=customer)).json()["items"] == []
    await world.client.post(f"/v1/contracts/{draft['id']}/activate", headers=headers)
    listed = (await world.client.get("/v1/contracts", headers=customer)).json()["items"]
    assert [c["id"] for c in listed] == [draft["id"]]


async def test_another_organisations_contract_is_not_found_for_a_customer(world: World) -> None:
    contract = await active_contract(world, await world.organization())
    stranger = await world.headers(await world.user(Role.CUSTOMER_USER, await world.organization()))
    response = await world.client.get(f"/v1/contracts/{contract['id']}", headers=stranger)
    assert response.status_code == 404


async def test_customers_cannot_draft_contracts(world: World) -> None:
    organization = await world.organization()
    customer = await world.headers(await world.user(Role.CUSTOMER_ADMIN, organization))
    response = await world.client.post("/v1/contracts", json=contract_body(organization), headers=customer)
    assert response.status_code == 403
    async with world.session() as session:
        assert (await session.scalars(sa.select(Contract))).first() is None


async def test_an_integration_with_contracts_read_lists_contracts(world: World) -> None:
    contract = await active_contract(world, await world.organization())
    client, _ = await world.integration(Scope.CONTRACTS_READ)
    headers = await world.headers(client)
    listed = (await world.client.get("/v1/contracts", headers=headers)).json()["items"]
    assert contract["id"] in [c["id"] for c in listed]


async def test_a_contract_number_is_unique(world: World) -> None:
    headers = await sales(world)
    organization = await world.organization()
    body = contract_body(organization)
    assert (await world.client.post("/v1/contracts", json=body, headers=headers)).status_code == 201
    again = await world.client.post("/v1/contracts", json=body, headers=headers)
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "number"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_postgresql_refuses_two_active_contracts_of_one_organisation_on_one_day(world: World) -> None:
    organization = await world.organization()
    existing = await active_contract(world, organization)
    with pytest.raises(sa.exc.IntegrityError, match="excl_contracts_contract_active_days"):
        async with world.session() as session:
            session.add(
                Contract(
                    organization_id=organization.id,
                    number="SLA-RACE",
                    state=ContractState.ACTIVE,
                    starts_on=date.fromisoformat(existing["ends_on"]),
                    ends_on=date(2027, 6, 30),
                    ends_before=date(2027, 7, 1),
                    created_at=world.clock.now(),
                    updated_at=world.clock.now(),
                )
            )


async def test_a_contract_longer_than_ten_years_is_refused(world: World) -> None:
    headers = await sales(world)
    body = contract_body(await world.organization(), starts_on=date(2026, 2, 1), ends_on=date(9999, 12, 31))
    response = await world.client.post("/v1/contracts", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "ends_on"


async def test_sales_attach_the_agreements_documents_that_its_customers_download(world: World) -> None:
    headers = await sales(world)
    organization = await world.organization()
    contract = await active_contract(world, organization)
    uploaded = await world.client.post(
        f"/v1/contracts/{contract['id']}/documents",
        files={"file": ("regulation.pdf", b"%PDF-1.4 the signed regulation", "application/pdf")},
        headers=headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    customer = await world.headers(await world.user(Role.CUSTOMER_USER, organization))
    shown = (await world.client.get(f"/v1/contracts/{contract['id']}", headers=customer)).json()
    assert [d["filename"] for d in shown["documents"]] == ["regulation.pdf"]
    download = await world.client.get(
        f"/v1/contracts/{contract['id']}/documents/{uploaded.json()['id']}", headers=customer
    )
    assert download.content == b"%PDF-1.4 the signed regulation"


async def test_customers_cannot_attach_documents_to_their_contract(world: World) -> None:
    organization = await world.organization()
    contract = await active_contract(world, organization)
    customer = await world.headers(await world.user(Role.CUSTOMER_ADMIN, organization))
    response = await world.client.post(
        f"/v1/contracts/{contract['id']}/documents",
        files={"file": ("x.pdf", b"x", "application/pdf")},
        headers=customer,
    )
    assert response.status_code == 403
    shown = (await world.client.get(f"/v1/contracts/{contract['id']}", headers=customer)).json()
    assert shown["documents"] == []
