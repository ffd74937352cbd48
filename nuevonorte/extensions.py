"""Unbound extension objects; ``create_app`` binds them with ``init_app``."""

from flask_babel import Babel
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from nuevonorte.models.base import Base

db = SQLAlchemy(model_class=Base)
# Batch mode lets later migrations alter tables on SQLite, which has no ALTER COLUMN.
migrate = Migrate(render_as_batch=True, compare_type=True)
babel = Babel()
csrf = CSRFProtect()
