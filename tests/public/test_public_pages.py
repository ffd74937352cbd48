"""Public pages read well in both languages and show only what consent allows."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask import abort
from flask.testing import FlaskClient
from sqlalchemy import select

from nuevonorte import stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Collection, CollectionEntry, CollectionStatus, Credit, EntryKind, Story, Theme
from nuevonorte.models.base import today
from nuevonorte.rich_text import render_markdown
from tests.public.media_factory import add_image


def _html(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, path
    return response.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_story_page_shows_text_media_transcript_and_facts(
    client: FlaskClient, media_story: Story, lang: str
) -> None:
    page = _html(client, f"/{lang}/stories/{media_story.public_id}")
    assert ("La noche que llegamos" if lang == "es" else "The night we arrived") in page
    assert "Primer párrafo del relato." in page and "Último párrafo." in page
    assert "Un pasaje privado." not in page
    assert ("[pasaje retenido]" if lang == "es" else "[passage withheld]") in page or "withheld" in page
    assert "Rosa" in page
    image, audio = media_story.media
    assert f'src="/media/{image.public_id}/display"' in page
    assert f'href="/media/{image.public_id}/original"' in page
    assert (
        'alt="Una calle de noche con luces."' if lang == "es" else 'alt="A street at night with lights."'
    ) in page
    assert '<audio id="player-1"' in page and f"/media/{audio.public_id}/original" in page
    assert "Nadie nos esperaba." in page
    assert page.count('class="seek"') == 3
    assert f'href="/{lang}/stories/{media_story.public_id}?t=2"' in page
    month = ("de " if lang == "es" else "") + str(today().year)
    assert month in page


def test_story_body_in_another_language_is_marked_and_noted(client: FlaskClient, media_story: Story) -> None:
    english = _html(client, f"/en/stories/{media_story.public_id}")
    assert "This story is only available in Spanish." in english
    assert '<div lang="es">' in english
    spanish = _html(client, f"/es/stories/{media_story.public_id}")
    assert "disponible solo" not in spanish


def test_untranslated_title_falls_back_with_a_lang_attribute(client: FlaskClient, make_story) -> None:
    story = make_story(title="Learning Spanish again", language="en")
    page = _html(client, f"/es/stories/{story.public_id}")
    assert '<h1 lang="en">Learning Spanish again</h1>' in page
    assert "Esta historia está disponible solo en inglés." in page


def test_anonymous_credit_and_the_chosen_name(client: FlaskClient, make_story) -> None:
    anonymous = make_story(choices=ConsentChoices(credit=Credit.ANONYMOUS, credit_name=""))
    assert "<dd>Anónimo</dd>" in _html(client, f"/es/stories/{anonymous.public_id}")
    assert "<dd>Anonymous</dd>" in _html(client, f"/en/stories/{anonymous.public_id}")


def test_content_warning_comes_before_the_story_with_a_choice_to_continue(
    client: FlaskClient, make_story
) -> None:
    story = make_story(body="Un relato difícil.", content_warnings="detention,violence")
    first = _html(client, f"/en/stories/{story.public_id}")
    assert "Content warning" in first and "Detention" in first and "Violence" in first
    assert "Un relato difícil." not in first
    link = f"/en/stories/{story.public_id}?show=1"
    assert f'href="{link}"' in first
    assert "Un relato difícil." in _html(client, link)
    # A deep link into the recording keeps its place through the warning.
    assert f"/es/stories/{story.public_id}?show=1&amp;t=12" in _html(
        client, f"/es/stories/{story.public_id}?t=12"
    )


@pytest.mark.parametrize(
    ("t", "fragment"), [("12", "#t=12.0"), ("-5", None), ("nan", None), ("abc", None), ("1e9", None)]
)
def test_start_time_parameter(client: FlaskClient, media_story: Story, t: str, fragment: str | None) -> None:
    page = _html(client, f"/es/stories/{media_story.public_id}?t={t}")
    if fragment:
        assert fragment in page
    else:
        assert "#t=" not in page


def test_voice_not_public_shows_transcript_as_plain_text(client: FlaskClient, make_story) -> None:
    from tests.public.media_factory import add_audio

    story = make_story(choices=ConsentChoices(credit_name="Ana", voice_public=False))
    add_audio(story)
    db.session.commit()
    page = _html(client, f"/en/stories/{story.public_id}")
    assert "<audio" not in page and 'class="seek"' not in page
    assert "Nadie nos esperaba." in page and "Nobody was waiting for us." in page
    assert "chose not to share their voice" in page


def test_a17_contributor_text_is_escaped_in_both_locales(client: FlaskClient, make_story) -> None:
    evil = '<script>alert(1)</script>" onmouseover="x'
    story = make_story(
        title=evil,
        body=evil,
        summary_es=evil,
        choices=ConsentChoices(credit=Credit.PSEUDONYM, credit_name=evil),
    )
    for lang in ("es", "en"):
        page = _html(client, f"/{lang}/stories/{story.public_id}")
        assert "<script>alert(1)" not in page and '" onmouseover="x' not in page
        home = _html(client, f"/{lang}/")
        assert "<script>alert(1)" not in home


def test_a17_curatorial_markdown_is_sanitized() -> None:
    html = str(
        render_markdown(
            "Hola **mundo** <script>x</script> [a](javascript:alert(1)) ![i](https://evil.example/x.png)"
        )
    )
    assert "<strong>mundo</strong>" in html
    assert "<script>" not in html
    assert 'href="javascript:' not in html
    assert "<img" not in html


def test_collection_reads_as_a_narrative_in_order(client: FlaskClient, demo_archive) -> None:
    collection = db.session.scalar(select(Collection))
    page = _html(client, f"/en/collections/{collection.public_id}")
    order = [
        "A demo collection.",
        "These fictional demo stories are about coming back",
        "My aunt&#39;s bakery",
        "Hands remember.",
        "Learning Spanish again",
        "The first day in Tijuana",
        "Returning to Oaxaca",
    ]
    positions = [page.index(text) for text in order]
    assert positions == sorted(positions)
    assert "Curator's note" in page


def test_collection_says_when_a_story_was_withdrawn_and_markdown_is_rendered(
    client: FlaskClient, demo_archive
) -> None:
    collection = db.session.scalar(select(Collection))
    first_story = next(e.story for e in collection.entries if e.kind == EntryKind.STORY)
    title = first_story.title_es
    stories.withdraw(first_story)
    collection.entries[0].text_es = "Texto con **énfasis**."
    db.session.commit()
    page = _html(client, f"/es/collections/{collection.public_id}")
    assert title not in page
    assert "Esta historia ya no está disponible en el archivo." in page or "ya no está disponible" in page
    assert "<strong>énfasis</strong>" in page


def test_draft_collection_is_404(client: FlaskClient, demo_archive) -> None:
    collection = db.session.scalar(select(Collection))
    collection.status = CollectionStatus.DRAFT
    db.session.commit()
    _html(client, f"/es/collections/{collection.public_id}", 404)


def test_story_outside_collections_consent_is_not_shown_in_a_collection(
    client: FlaskClient, make_story
) -> None:
    story = make_story(
        title="No en colecciones", choices=ConsentChoices(credit_name="A", in_collections=False)
    )
    collection = Collection(
        title_es="C",
        title_en="C",
        status=CollectionStatus.PUBLISHED,
        published_on=today(),
        entries=[CollectionEntry(position=0, kind=EntryKind.STORY, story=story)],
    )
    db.session.add(collection)
    db.session.commit()
    page = _html(client, f"/es/collections/{collection.public_id}")
    assert "No en colecciones" not in page and story.public_id not in page


def test_home_lists_collections_with_covers_stories_and_themes(client: FlaskClient, demo_archive) -> None:
    page = _html(client, "/es/")
    collection = db.session.scalar(select(Collection))
    assert f"/media/{collection.cover.public_id}/thumbnail" in page
    assert 'href="/es/themes/familia"' in page
    assert "La panadería de mi tía" in page


def test_browse_by_theme_and_place_shows_only_public_stories(client: FlaskClient, demo_archive) -> None:
    index = _html(client, "/en/themes/")
    assert 'href="/en/themes/border"' in index
    frontera = _html(client, "/en/themes/border")
    assert "The first day in Tijuana" in frontera
    assert "backpack" not in frontera  # embargoed
    tijuana = _html(client, "/es/places/tijuana")
    assert "El primer día en Tijuana" in tijuana and "mochila" not in tijuana
    _html(client, "/es/themes/no-such-theme", 404)
    _html(client, "/es/places/no-such-place", 404)
    _html(client, "/es/themes/frontera?page=99", 404)
    _html(client, "/es/themes/frontera?page=abc")


def test_theme_pages_paginate(client: FlaskClient, make_story) -> None:
    theme = Theme(slug="t", name_es="Tema", name_en="Theme")
    db.session.add(theme)
    for n in range(25):
        make_story(title=f"Relato {n:02d}", themes=[theme])
    first = _html(client, "/es/themes/t")
    assert first.count('class="card"') == 20 and 'rel="next"' in first
    second = _html(client, "/es/themes/t?page=2")
    assert second.count('class="card"') == 5 and 'rel="prev"' in second
    # Newest first (published the same day: the later story first), each story once.
    shown = re.findall(r"Relato (\d\d)", first) + re.findall(r"Relato (\d\d)", second)
    assert list(dict.fromkeys(shown)) == [f"{n:02d}" for n in range(24, -1, -1)]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_about_and_how_it_works_pages(client: FlaskClient, lang: str) -> None:
    about = _html(client, f"/{lang}/about")
    assert ("Acerca del archivo" if lang == "es" else "About the archive") in about
    how = _html(client, f"/{lang}/how-it-works")
    assert f'href="/{lang}/contribute"' in how
    assert ("Retiro" if lang == "es" else "Withdrawal") in how


def test_open_graph_never_includes_non_public_media(client: FlaskClient, make_story) -> None:
    hidden = make_story(
        title="Con fotos privadas", choices=ConsentChoices(credit_name="A", photos_public=False)
    )
    image = add_image(hidden)
    shown = make_story(title="Con fotos", choices=ConsentChoices(credit_name="A", photos_public=True))
    public_image = add_image(shown)
    db.session.commit()
    page = _html(client, f"/es/stories/{hidden.public_id}")
    assert '<meta property="og:title" content="Con fotos privadas">' in page
    assert "og:image" not in page and image.public_id not in page
    page = _html(client, f"/en/stories/{shown.public_id}")
    assert (
        f'<meta property="og:image" content="http://localhost/media/{public_image.public_id}/display">'
        in page
    )
    assert f'<meta property="og:url" content="http://localhost/en/stories/{shown.public_id}">' in page


class _Urls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "action", "poster", "srcset", "data") and value:
                self.urls.append(value)


def test_m20_no_third_party_urls_on_any_public_page(
    client: FlaskClient, demo_archive, media_story: Story
) -> None:
    """M20: every public page in both locales refers only to this site (og: URLs are our own host)."""
    collection = db.session.scalar(select(Collection))
    public = db.session.scalars(select(Story)).all()
    paths = ["/", "/nope"]
    for lang in ("es", "en"):
        paths += [
            f"/{lang}/",
            f"/{lang}/about",
            f"/{lang}/how-it-works",
            f"/{lang}/themes/",
            f"/{lang}/places/",
        ]
        paths += [
            f"/{lang}/collections/{collection.public_id}",
            f"/{lang}/themes/familia",
            f"/{lang}/places/cdmx",
        ]
        paths += [f"/{lang}/stories/{s.public_id}" for s in public]
    css_response = client.get("/static/style.css")
    css = css_response.get_data(as_text=True)
    css_response.close()
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", css) and "@import" not in css
    for path in paths:
        response = client.get(path)
        body = response.get_data(as_text=True)
        parser = _Urls()
        parser.feed(body)
        for url in parser.urls:
            assert not re.match(r"^(https?:)?//", url) or url.startswith("http://localhost/"), (path, url)
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", body), path
        for content in re.findall(r'<meta property="og:[a-z:]+" content="(https?://[^"]*)"', body):
            assert content.startswith("http://localhost/"), (path, content)


@pytest.mark.parametrize("code", [400, 403, 404, 405, 413, 429, 500])
@pytest.mark.parametrize(("lang", "accept"), [("es", "es-MX"), ("en", "en-US")])
def test_a08_error_pages_in_both_languages_with_headers(
    app, client: FlaskClient, code: int, lang: str, accept: str
) -> None:
    """A08/M18: every error page is localized, carries the security headers and leaks nothing."""

    def fail() -> None:
        if code == 500:
            raise RuntimeError("SELECT secret FROM story")
        abort(code)

    app.add_url_rule("/_fail", "fail", fail)
    for path in ("/_fail", f"/{lang}/stories/x" if code == 404 else "/_fail"):
        response = client.get(path, headers={"Accept-Language": accept})
        page = response.get_data(as_text=True)
        assert response.status_code == code
        assert f'<html lang="{lang}">' in page
        assert "SELECT" not in page and "Traceback" not in page
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "Set-Cookie" not in response.headers


def test_story_told_in_a_third_language_says_so_in_the_visitors_language(
    client: FlaskClient, make_story
) -> None:
    story = make_story(title="Un relato", original_language="pt")
    assert "Esta historia está contada en portugués." in _html(client, f"/es/stories/{story.public_id}")
    assert "This story is told in Portuguese." in _html(client, f"/en/stories/{story.public_id}")
    assert '<div lang="pt">' in _html(client, f"/en/stories/{story.public_id}")


def test_listings_say_when_a_title_exists_only_in_the_other_language(
    client: FlaskClient, demo_archive
) -> None:
    assert "Solo en inglés" in _html(client, "/es/")  # "Learning Spanish again"
    assert "Only in Spanish" in _html(client, "/en/")  # "Cartas a mi hijo"
