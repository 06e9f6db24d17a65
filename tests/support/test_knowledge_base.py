"""Knowledge base: the lead writes, everyone reads published articles, search in Russian and English."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.roles import Role
from tests.support.helpers import file_ticket
from tests.world import World

SYNC = {
    "slug": "sync-fails-code-17",
    "title": "Terminal synchronisation fails with code 17",
    "body": "Clear the exchange directory and restart the Mobile Server service.",
    "tags": ["sync"],
    "published": True,
}
RUSSIAN = {
    "slug": "obmen-ne-rabotaet",
    "title": "Обмен с терминалами не работает",
    "body": "Проверьте каталог обмена и перезапустите службу сервера.",
    "tags": ["обмен"],
    "published": True,
}


async def _write(world: World, article: dict[str, Any]) -> None:
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    response = await world.client.post("/v1/kb/articles", json=article, headers=lead)
    assert response.status_code == 201, response.text


async def test_anyone_finds_a_published_article_by_english_words(world: World) -> None:
    await _write(world, SYNC)
    await _write(world, RUSSIAN)
    found = (await world.client.get("/v1/kb/articles", params={"q": "synchronisation code"})).json()
    assert [a["slug"] for a in found] == ["sync-fails-code-17"]


async def test_russian_text_is_searchable(world: World) -> None:
    await _write(world, SYNC)
    await _write(world, RUSSIAN)
    found = (await world.client.get("/v1/kb/articles", params={"q": "каталог обмена"})).json()
    assert [a["slug"] for a in found] == ["obmen-ne-rabotaet"]


async def test_drafts_are_hidden_from_the_public(world: World) -> None:
    await _write(world, {**SYNC, "published": False})
    assert (await world.client.get("/v1/kb/articles", params={"q": "synchronisation"})).json() == []
    assert (await world.client.get("/v1/kb/articles/sync-fails-code-17")).status_code == 404


async def test_new_ticket_suggests_matching_articles(world: World) -> None:
    await _write(world, SYNC)
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    assert [a["slug"] for a in ticket["suggested_articles"]] == ["sync-fails-code-17"]


async def test_staff_reply_citing_an_article_is_recorded_on_the_ticket(world: World) -> None:
    await _write(world, SYNC)
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/messages",
        json={"body": "See the article.", "cited_articles": ["sync-fails-code-17"]},
        headers=engineer,
    )
    body = (await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=headers)).json()
    assert [a["slug"] for a in body["cited_articles"]] == ["sync-fails-code-17"]


async def test_citing_an_unknown_article_is_refused(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    response = await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/messages",
        json={"body": "x", "cited_articles": ["nope"]},
        headers=engineer,
    )
    assert response.status_code == 404
    assert (await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=engineer)).json()[
        "messages"
    ] == []


async def test_duplicate_slug_is_a_conflict(world: World) -> None:
    await _write(world, SYNC)
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    assert (await world.client.post("/v1/kb/articles", json=SYNC, headers=lead)).status_code == 409


async def test_edited_article_is_found_by_its_new_words(world: World) -> None:
    await _write(world, SYNC)
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    await world.client.patch(
        "/v1/kb/articles/sync-fails-code-17", json={"body": "Reinstall the licence key."}, headers=lead
    )
    found = (await world.client.get("/v1/kb/articles", params={"q": "licence"})).json()
    assert [a["slug"] for a in found] == ["sync-fails-code-17"]
    assert (await world.client.get("/v1/kb/articles", params={"q": "restart service"})).json() == []


async def test_search_with_quotes_and_operators_is_safe(world: World) -> None:
    await _write(world, SYNC)
    response = await world.client.get("/v1/kb/articles", params={"q": '"code" OR NEAR( \' ; drop'})
    assert response.status_code == 200


async def test_suggestions_are_kept_with_the_ticket(world: World) -> None:
    await _write(world, SYNC)
    _, _, headers = await world.contact()
    filed = await file_ticket(world, headers)
    stored = (await world.client.get(f"/v1/support/tickets/{filed['id']}", headers=headers)).json()
    assert [a["slug"] for a in stored["suggested_articles"]] == ["sync-fails-code-17"]


async def test_suggestions_put_the_closest_article_first_and_skip_drafts(world: World) -> None:
    await _write(world, {**SYNC, "slug": "directory-only", "title": "Directory cleanup", "body": "Weekly."})
    await _write(world, SYNC)
    await _write(world, {**SYNC, "slug": "sync-draft", "published": False})
    _, _, headers = await world.contact()
    ticket = await file_ticket(
        world, headers
    )  # "Terminals stop synchronising … the exchange directory fills up."
    assert [a["slug"] for a in ticket["suggested_articles"]] == ["sync-fails-code-17", "directory-only"]


async def test_a_description_without_searchable_words_suggests_nothing(world: World) -> None:
    await _write(world, SYNC)
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers, description="?! ... 42")
    assert ticket["suggested_articles"] == []


async def test_common_words_alone_suggest_nothing(world: World) -> None:
    printer = {
        **SYNC,
        "slug": "printer",
        "title": "Printer setup",
        "body": "Install the driver and the fonts.",
    }
    await _write(world, printer)
    await _write(world, SYNC)
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)  # shares only "the" with the printer article
    assert [a["slug"] for a in ticket["suggested_articles"]] == ["sync-fails-code-17"]


async def test_a_search_ignores_common_words(world: World) -> None:
    await _write(world, {**SYNC, "slug": "printer", "title": "Printer setup", "body": "Install the driver."})
    found = (await world.client.get("/v1/kb/articles", params={"q": "the printer"})).json()
    assert [a["slug"] for a in found] == ["printer"]


async def test_a_russian_search_finds_other_forms_of_the_words(world: World) -> None:
    await _write(world, RUSSIAN)  # "Проверьте каталог обмена и перезапустите службу сервера."
    found = (await world.client.get("/v1/kb/articles", params={"q": "каталоги серверу"})).json()
    assert [a["slug"] for a in found] == ["obmen-ne-rabotaet"]


async def test_a_russian_ticket_is_suggested_an_article_that_words_it_differently(world: World) -> None:
    await _write(world, SYNC)
    await _write(world, RUSSIAN)  # "Обмен с терминалами не работает"
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers, description="Терминалы не работают после обновления")
    assert [a["slug"] for a in ticket["suggested_articles"]] == ["obmen-ne-rabotaet"]


async def test_a_deleted_article_is_no_longer_found(world: World) -> None:
    await _write(world, SYNC)
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    deleted = await world.client.delete("/v1/kb/articles/sync-fails-code-17", headers=lead)
    assert deleted.status_code == 204, deleted.text
    assert (await world.client.get("/v1/kb/articles", params={"q": "synchronisation"})).json() == []


RANKED = [  # written least relevant first, so that recency would give the reverse order
    {"slug": "one-word", "title": "Printer driver", "body": "Terminals need a printer.", "tags": ["print"]},
    {"slug": "two-words", "title": "Sync on terminals", "body": "Terminals sync nightly.", "tags": ["sync"]},
    {
        "slug": "three-words",
        "title": "Terminals do not sync after the update",
        "body": "After the update terminals stop to sync; reinstall the update.",
        "tags": ["sync"],
    },
]


async def _ranked_articles(world: World) -> None:
    for article in RANKED:
        await _write(world, {**article, "published": True})


async def test_search_and_suggestions_rank_by_relevance_alike_on_both_databases(world: World) -> None:
    await _ranked_articles(world)
    query = "terminals sync update"
    found = (await world.client.get("/v1/kb/articles", params={"q": query})).json()
    assert [a["slug"] for a in found] == ["three-words", "two-words", "one-word"]
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers, description="Terminals fail to sync after the update")
    assert [a["slug"] for a in ticket["suggested_articles"]] == ["three-words", "two-words", "one-word"]


async def test_a_search_needs_any_word_not_every_word_as_suggestions_do(world: World) -> None:
    await _write(world, RUSSIAN)
    query = "не синхронизируются терминалы"  # "терминалы" matches the article; the verb does not
    found = (await world.client.get("/v1/kb/articles", params={"q": query})).json()
    assert [a["slug"] for a in found] == ["obmen-ne-rabotaet"]


async def test_the_tag_filter_applies_before_the_limit(world: World) -> None:
    await _ranked_articles(world)
    tagged = (await world.client.get("/v1/kb/articles", params={"tag": "print", "limit": 1})).json()
    assert [a["slug"] for a in tagged] == ["one-word"]  # the oldest article, beyond the newest one
    searched = (
        await world.client.get("/v1/kb/articles", params={"q": "terminals", "tag": "print", "limit": 1})
    ).json()
    assert [a["slug"] for a in searched] == ["one-word"]


COMMON_AND_RARE = {
    "en": (
        "After the update the terminals stop synchronising with the server; calibration",
        {
            "slug": "four",
            "title": "Terminals stop synchronising with the server after an update",
            "body": ".",
        },
        {"slug": "rare", "title": "Scanner calibration", "body": "Calibration of barcode scanners."},
        ["terminals", "synchronising", "server", "update"],
    ),
    "ru": (
        "После обновления терминалы перестали синхронизироваться с сервером; калибровка",
        {
            "slug": "chetyre",
            "title": "Терминалы не синхронизируются с сервером после обновления",
            "body": ".",
        },
        {"slug": "redkoe", "title": "Калибровка сканеров", "body": "Калибровка сканеров штрихкодов."},
        ["терминалы", "синхронизируются", "сервером", "обновления"],
    ),
}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_an_article_sharing_more_words_outranks_one_sharing_a_rarer_word(
    world: World, language: str
) -> None:
    """On both databases alike: four shared words beat one rare one (SQLite's bm25 alone weighs a rare
    word above several common ones; PostgreSQL's ts_rank does not)."""
    text, four, rare, words = COMMON_AND_RARE[language]
    for n in range(8):  # each of the four words is common in the knowledge base; the rare one is not
        filler = f"{words[n % 4]} {words[(n + 1) % 4]}"
        await _write(world, {"slug": f"filler-{n}", "title": filler, "body": filler, "published": True})
    await _write(world, {**rare, "tags": [], "published": True})
    await _write(world, {**four, "tags": [], "published": True})
    found = (await world.client.get("/v1/kb/articles", params={"q": text, "limit": 20})).json()
    slugs = [a["slug"] for a in found]
    assert slugs[0] == four["slug"], slugs
    assert rare["slug"] in slugs  # found, for its one word, but below
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers, description=text)
    assert ticket["suggested_articles"][0]["slug"] == four["slug"]
