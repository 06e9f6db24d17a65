"""Inbound e-mail: a forwarded message becomes a ticket from the designated contact, or a reply."""

from __future__ import annotations

from email.message import EmailMessage

from accounts.roles import Role, Scope
from tests.world import World


def _mail(sender: str, subject: str, body: str, attachment: tuple[str, bytes] | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = f"Irina <{sender}>"
    message["To"] = "support@vendor.example"
    message["Subject"] = subject
    message.set_content(body)
    if attachment:
        message.add_attachment(
            attachment[1], maintype="application", subtype="octet-stream", filename=attachment[0]
        )
    return message.as_bytes()


async def _gateway(world: World) -> dict[str, str]:
    client, _ = await world.integration(Scope.SUPPORT_INBOUND_EMAIL)
    return await world.headers(client, **{"content-type": "message/rfc822"})


async def test_mail_from_the_contact_becomes_a_ticket_with_its_attachment(world: World) -> None:
    _, contact, headers = await world.contact()
    raw = _mail(
        contact.email, "Terminals do not sync", "Since Monday nothing syncs.", ("devices.db", b"SQLite")
    )
    response = await world.client.post(
        "/v1/support/inbound-email", content=raw, headers=await _gateway(world)
    )
    assert response.status_code == 201
    ticket = response.json()
    assert ticket["channel"] == "email"
    assert ticket["project_name"] == "Terminals do not sync"
    assert ticket["attachments"][0]["kind"] == "device_database"
    assert "device_database" not in ticket["missing"]
    assert "steps_to_reproduce" in ticket["missing"]
    listing = (await world.client.get("/v1/support/tickets", headers=headers)).json()
    assert len(listing["items"]) == 1


async def test_reply_quoting_the_ticket_number_is_added_as_a_message(world: World) -> None:
    _, contact, _ = await world.contact()
    gateway = await _gateway(world)
    first = (
        await world.client.post(
            "/v1/support/inbound-email", content=_mail(contact.email, "Help", "Broken"), headers=gateway
        )
    ).json()
    reply = _mail(contact.email, f"Re: [{first['number']}] Help", "Here are more details.")
    response = await world.client.post("/v1/support/inbound-email", content=reply, headers=gateway)
    assert response.status_code == 200
    assert response.json()["id"] == first["id"]
    assert response.json()["messages"][-1]["body"].strip() == "Here are more details."


async def test_unknown_sender_is_refused_and_nothing_is_filed(world: World) -> None:
    response = await world.client.post(
        "/v1/support/inbound-email",
        content=_mail("stranger@nowhere.example", "Hi", "Hi"),
        headers=await _gateway(world),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "inbound_email_rejected"
    assert "stranger@nowhere.example" in response.json()["detail"]


async def test_mail_from_someone_other_than_the_contact_is_refused(world: World) -> None:
    org, _, _ = await world.contact()
    colleague = await world.user(Role.CUSTOMER_USER, org)
    response = await world.client.post(
        "/v1/support/inbound-email", content=_mail(colleague.email, "Hi", "Hi"), headers=await _gateway(world)
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_support_contact"


async def test_malformed_message_is_refused(world: World) -> None:
    response = await world.client.post(
        "/v1/support/inbound-email", content=b"this is not an e-mail at all", headers=await _gateway(world)
    )
    assert response.status_code == 422


async def test_integration_without_the_scope_is_forbidden(world: World) -> None:
    client, _ = await world.integration(Scope.SUPPORT_READ)
    response = await world.client.post(
        "/v1/support/inbound-email", content=b"x", headers=await world.headers(client)
    )
    assert response.status_code == 403


async def test_a_delivery_retried_with_its_idempotency_key_files_one_ticket(world: World) -> None:
    _, contact, headers = await world.contact()
    gateway = {**await _gateway(world), "Idempotency-Key": "smtp-queue-4711"}
    raw = _mail(contact.email, "Terminals do not sync", "Since Monday nothing syncs.")
    first = await world.client.post("/v1/support/inbound-email", content=raw, headers=gateway)
    again = await world.client.post("/v1/support/inbound-email", content=raw, headers=gateway)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    listing = (await world.client.get("/v1/support/tickets", headers=headers)).json()
    assert len(listing["items"]) == 1
