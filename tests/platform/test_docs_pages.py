"""The interactive documentation renders with no network: the app serves everything its pages load."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

DOCS_PAGES = ["/schema", "/schema/redoc", "/schema/swagger"]


class _Assets(HTMLParser):
    """The scripts, stylesheets and icons a page references."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.urls.append(str(found["src"]))
        if tag == "link" and found.get("href"):
            self.urls.append(str(found["href"]))


def _assets_of(page: str) -> list[str]:
    parser = _Assets()
    parser.feed(page)
    return parser.urls


@pytest.mark.parametrize("page", DOCS_PAGES)
async def test_every_asset_a_docs_page_loads_is_served_by_the_app(
    client: AsyncTestClient[Litestar], page: str
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assets = _assets_of(response.text)
    assert any(url.endswith(".js") for url in assets), assets
    for url in assets:
        assert url.startswith("/"), f"{page} loads {url} from another origin"
        served = await client.get(url)
        assert served.status_code == 200, url
        assert len(served.content) > 0, url
