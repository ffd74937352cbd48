"""Nuevo Norte, the archive of the Taller Nuevo Norte."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Imported inside create_app: the media worker runs as ``python -I -m nuevonorte.media.worker``
    # and must import neither Flask nor the database when it imports this package.
    from flask import Flask

#: What any website may read (CORS): the read API and search, OAI-PMH, oEmbed, IIIF, public
#: media files (a partner's viewer fetches them) and the feeds. Never a write:
#: ``POST /api/v1/contributions`` answers no cross-origin request.
READABLE_ACROSS_ORIGINS = (
    r"^/(api/v1/(?!contributions|partners/)|oai$|oembed$|iiif/|media/|[a-z]{2}/feed\.atom$)"
)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application: config, then extensions, then blueprints, then CLI. Nothing else.

    Raises ``nuevonorte.config.ConfigError`` when the configuration cannot be used.
    """
    from flask import Flask
    from flask_cors import CORS

    from nuevonorte import (
        admission,
        config,
        consent,
        database,
        errors,
        headers,
        i18n,
        iiif,
        ledger,
        oai,
        publication,
        request_line,
        safe_input,
        search,
        storage,
        translations,
        withheld_words,
    )
    from nuevonorte.api.read import bp as read_api_bp
    from nuevonorte.api.search import bp as search_api_bp
    from nuevonorte.api.views import bp as api_bp
    from nuevonorte.cli import register_commands
    from nuevonorte.contribute.own_media import bp as own_media_bp
    from nuevonorte.contribute.views import bp as contribute_bp
    from nuevonorte.curate import blueprint as curate_blueprint
    from nuevonorte.extensions import csrf, db, migrate
    from nuevonorte.jobs import records as jobs_records
    from nuevonorte.models import PERMISSIONS
    from nuevonorte.partners import shown as partners_shown
    from nuevonorte.partners.api import bp as partner_api_bp
    from nuevonorte.public import crawlers, embed, feeds, front, presentation, search_views
    from nuevonorte.public.language import bp as language_bp
    from nuevonorte.public.media import bp as media_bp
    from nuevonorte.public.partner_views import bp as partner_public_bp
    from nuevonorte.public.persistent import bp as persistent_bp
    from nuevonorte.public.views import bp as public_bp
    from nuevonorte.public.views import root as root_bp

    # Everything the archive writes (database, index, media, temporary files) is for its own
    # user only: no group or other permission on any file a process of ours creates.
    os.umask(0o077)
    app = Flask(__name__, instance_path=str(config.PROJECT_DIR / "instance"))
    app.config.from_mapping(config.load(app.instance_path, overrides))

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(config.PROJECT_DIR / "migrations"))
    csrf.init_app(app)
    i18n.init_app(app)
    storage.init_app(app)
    headers.init_app(app)
    errors.init_app(app)
    safe_input.init_app(app)  # before the blueprints: their routes bind the ``int`` converter
    request_line.init_app(app)  # its check runs first of all

    app.register_blueprint(root_bp)
    app.register_blueprint(crawlers.bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(language_bp)
    app.register_blueprint(contribute_bp)
    app.register_blueprint(own_media_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(curate_blueprint())
    app.register_blueprint(search_views.bp)
    app.register_blueprint(search_api_bp)
    app.register_blueprint(oai.bp)
    app.register_blueprint(iiif.bp)
    app.register_blueprint(read_api_bp)
    app.register_blueprint(persistent_bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(embed.oembed_bp)
    app.register_blueprint(partner_api_bp)
    app.register_blueprint(partner_public_bp)
    # Anything public may be read from any website; nothing is written across origins, and no
    # cookie or credential is ever sent along (the contributions API stays same-origin).
    readable = {"origins": "*", "methods": ["GET", "HEAD"]}
    CORS(app, resources={READABLE_ACROSS_ORIGINS: readable}, send_wildcard=True)
    ledger.init_app(app)  # before search's: a restored backup is made whole before anything
    search.init_app(app)  # index every committed change (SQLAlchemy session events)
    publication.install()  # what harvesters learn of each change, in its own transaction
    jobs_records.install()  # a job's id goes to the queue once its transaction commits

    # The consent rule's predicates, for templates that show parts of a story.
    app.jinja_env.globals.update(
        consent_permissions=PERMISSIONS,
        public_paragraphs=consent.public_paragraphs,
        public_cues=consent.public_cues,
        cues_once_reviewed=consent.cues_once_reviewed,
        transcript_is_public=consent.transcript_is_public,
        entry_story_is_public=consent.entry_story_is_public,
        partner_story_is_shown=partners_shown.story_is_shown,
        media_is_public=consent.media_is_public,
        public_audio_key=consent.public_audio_key,
        credit_line=consent.credit_line,
        story_is_embeddable=consent.story_is_embeddable,
        embed_code=embed.code,
        translated_paragraphs=translations.public_paragraphs,
        translation_provenance=translations.provenance_words,
    )
    app.jinja_env.filters["withheld_marks"] = withheld_words.marked
    presentation.init_app(app)
    admission.init_app(app)  # proof-of-work challenges in forms under pressure

    register_commands(app)
    # Last, around everything: a kept public answer is given again before Flask (decision 0031).
    front.init_app(app)
    return app
