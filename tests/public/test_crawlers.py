"""What crawlers read: robots.txt (a stated choice about search engines and AI crawlers),
sitemap.xml (only what consent makes public, in both languages) and the favicon."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
from flask.testing import FlaskClient

from nuevonorte import stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Collection, CollectionStatus, Place, PlaceLevel, StoryStatus, Theme, Visibility
from nuevonorte.models.base import today
from nuevonorte.public import crawlers

SITE = "https://archivo.example.org"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
AI_CRAWLERS = ("GPTBot", "CCBot", "Google-Extended", "ClaudeBot", "anthropic-ai")


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Deployed at a public address, with the page cache on as in production."""
    return {**app_config, "public_url": SITE, "PUBLIC_PAGE_CACHE_SECONDS": 30}


def _groups(robots: str) -> dict[str, list[str]]:
    """Each user agent's rules, as robots.txt groups them (RFC 9309)."""
    groups: dict[str, list[str]] = {}
    agents: list[str] = []
    in_rules = False
    for line in robots.splitlines():
        field, _, value = (part.strip() for part in line.partition(":"))
        if field.lower() == "user-agent":
            if in_rules:
                agents, in_rules = [], False
            agents.append(value)
            groups.setdefault(value, [])
        elif field.lower() in ("allow", "disallow") and agents:
            in_rules = True
            for agent in agents:
                groups[agent].append(f"{field.lower()}: {value}")
    return groups


def test_robots_by_default_lets_search_engines_in_and_keeps_ai_crawlers_out(client: FlaskClient) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    robots = response.get_data(as_text=True)
    groups = _groups(robots)
    for agent in AI_CRAWLERS:
        assert groups[agent] == ["disallow: /"], agent
    everyone = groups["*"]
    assert "disallow: /curate/" in everyone and "disallow: /api/" in everyone
    for lang in ("es", "en"):
        assert f"disallow: /{lang}/contribute" in everyone and f"disallow: /{lang}/my-stories" in everyone
    assert "disallow: /" not in everyone
    assert f"Sitemap: {SITE}/sitemap.xml" in robots


@pytest.mark.parametrize(
    ("search", "ai", "everyone_out", "ai_out"),
    [(False, False, True, True), (True, True, False, False), (False, True, True, False)],
)
def test_robots_follows_the_configured_choice(
    make_app, search: bool, ai: bool, everyone_out: bool, ai_out: bool
) -> None:
    app = make_app(allow_search_engines=search, allow_ai_crawlers=ai)
    robots = app.test_client().get("/robots.txt").get_data(as_text=True)
    groups = _groups(robots)
    assert ("disallow: /" in groups["*"]) is everyone_out
    for agent in AI_CRAWLERS:
        if ai_out:
            assert groups[agent] == ["disallow: /"]
        elif everyone_out:
            assert agent in groups and "disallow: /" not in groups[agent]
        else:
            assert agent not in groups
    assert ("Sitemap:" in robots) is search


@pytest.mark.parametrize(
    ("search", "ai", "says"),
    [
        (True, False, "Public stories can be found through search engines such as Google; we ask companies"),
        (False, False, "We ask search engines and companies that train artificial intelligence"),
        (True, True, "and companies that train artificial intelligence may copy them"),
    ],
)
def test_contributors_read_the_crawler_choice_in_the_consent_text(
    make_app, search: bool, ai: bool, says: str
) -> None:
    app = make_app(allow_search_engines=search, allow_ai_crawlers=ai)
    page = app.test_client().get("/en/contribute").get_data(as_text=True)
    text = page.split('id="consent-text"')[1].split("</div>")[0]
    assert says in text


def _sitemap(client: FlaskClient, path: str = "/sitemap.xml") -> dict[str, dict[str, str]]:
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = ElementTree.fromstring(response.get_data())
    assert root.tag == f"{{{NS['s']}}}urlset"
    return {
        url.findtext("s:loc", namespaces=NS) or "": {
            link.get("hreflang") or "": link.get("href") or "" for link in url.findall("x:link", NS)
        }
        for url in root.findall("s:url", NS)
    }


def test_sitemap_lists_public_pages_in_both_languages_and_nothing_else(
    client: FlaskClient, make_story
) -> None:
    public = make_story(title="Pública")
    private = make_story(title="Privada", status=StoryStatus.PRIVATE)
    embargoed = make_story(
        title="Embargada",
        choices=ConsentChoices(credit_name="A", embargo_until=today() + timedelta(days=3)),
    )
    unpublished = make_story(title="Sin publicar", status=StoryStatus.SUBMITTED)
    shown = Collection(
        title_es="Vista", title_en="Seen", status=CollectionStatus.PUBLISHED, published_on=today()
    )
    draft = Collection(title_es="Borrador", title_en="Draft", status=CollectionStatus.DRAFT)
    db.session.add_all([shown, draft])
    db.session.commit()
    urls = _sitemap(client)
    for lang in ("es", "en"):
        for path in (
            "/",
            "/about",
            "/how-it-works",
            f"/stories/{public.public_id}",
            f"/collections/{shown.public_id}",
        ):
            loc = f"{SITE}/{lang}{path}"
            assert urls[loc] == {
                "es": f"{SITE}/es{path}",
                "en": f"{SITE}/en{path}",
                "x-default": f"{SITE}/es{path}",
            }
    text = " ".join(urls)
    for hidden in (private, embargoed, unpublished):
        assert hidden.public_id not in text
    assert draft.public_id not in text
    assert all(loc.startswith(SITE + "/") for loc in urls)


def test_c05_a_withdrawn_or_narrowed_story_leaves_the_sitemap_at_once(
    client: FlaskClient, make_story
) -> None:
    """C05: the sitemap is never served from the page cache; a withdrawal is seen at its commit."""
    gone = make_story(title="Se retira")
    narrowed = make_story(title="Solo curadores")
    stays = make_story(title="Se queda")
    before = " ".join(_sitemap(client))
    assert gone.public_id in before and narrowed.public_id in before
    stories.withdraw(gone)
    stories.change_consent(
        narrowed, ConsentChoices(visibility=Visibility.CURATORS, credit_name="A"), language="es"
    )
    db.session.commit()
    after = " ".join(_sitemap(client))
    assert gone.public_id not in after and narrowed.public_id not in after
    assert stays.public_id in after


def test_a24_sitemap_and_robots_never_name_a_foreign_host(client: FlaskClient, make_story) -> None:
    make_story(title="Una")
    assert client.get("/sitemap.xml", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/robots.txt", headers={"Host": "evil.example"}).status_code == 400
    assert "evil.example" not in client.get("/sitemap.xml").get_data(as_text=True)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_favicon_is_linked_and_answers(client: FlaskClient, lang: str) -> None:
    page = client.get(f"/{lang}/").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    with client.get("/static/favicon.svg") as svg:
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    with client.get("/favicon.ico") as ico:
        assert ico.status_code == 200 and ico.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
        assert ico.get_data()[:4] == b"\x00\x00\x01\x00"  # an ICO file's header


def test_themes_and_places_with_public_stories_are_listed_with_each_languages_short_id(
    client: FlaskClient, make_story
) -> None:
    """A theme's page is listed at its Spanish and its English address; a place named only by a
    story that is not public is not listed (its name alone can say too much)."""
    work = Theme(slug="trabajo", slug_en="work", name_es="Trabajo", name_en="Work")
    town = Place(
        slug="pueblo-chico",
        name_es="Pueblo Chico",
        name_en="Small Town",
        country_code="MX",
        level=PlaceLevel.CITY,
    )
    db.session.add_all([work, town])
    make_story(title="Pública", themes=[work])
    make_story(title="Privada", status=StoryStatus.PRIVATE, places=[town])
    urls = _sitemap(client)
    assert urls[f"{SITE}/en/themes/work"] == {
        "es": f"{SITE}/es/themes/trabajo",
        "en": f"{SITE}/en/themes/work",
        "x-default": f"{SITE}/es/themes/trabajo",
    }
    assert f"{SITE}/es/themes/trabajo" in urls
    assert not any("pueblo-chico" in loc or "small-town" in loc for loc in urls)


def test_past_one_files_worth_the_sitemap_is_an_index_of_files_that_list_everything_once(
    client: FlaskClient, make_story, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The protocol allows 50,000 URLs a file: a big archive gets a sitemap index. Here a file
    holds 3 pages (6 URLs in two languages); every public page is in exactly one file."""
    made = [make_story(title=f"Relato {n}") for n in range(4)]
    everything = _sitemap(client)  # 5 fixed pages + 4 stories, in one file
    monkeypatch.setattr(crawlers, "MAX_URLS", 6)
    response = client.get("/sitemap.xml")
    root = ElementTree.fromstring(response.get_data())
    assert root.tag == f"{{{NS['s']}}}sitemapindex"
    parts = [loc.text or "" for loc in root.findall("s:sitemap/s:loc", NS)]
    assert parts == [f"{SITE}/sitemap-{n}.xml" for n in (1, 2, 3)]
    listed: dict[str, dict[str, str]] = {}
    for part in parts:
        urls = _sitemap(client, part.removeprefix(SITE))
        assert len(urls) <= 6 and not set(urls) & set(listed)
        listed |= urls
    assert listed == everything
    assert all(f"{SITE}/en/stories/{story.public_id}" in listed for story in made)
    for beyond in ("/sitemap-4.xml", "/sitemap-0.xml", "/sitemap-99999999999999999999.xml"):
        assert client.get(beyond).status_code == 404
    # A withdrawal leaves its file at once (C05).
    stories.withdraw(made[-1])
    db.session.commit()
    last = _sitemap(client, "/sitemap-3.xml")
    assert not any(made[-1].public_id in loc for loc in last)
