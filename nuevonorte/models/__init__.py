"""The archive's data model, one module per noun."""

from nuevonorte.models.account import Contributor, CuratorAccount, Role
from nuevonorte.models.audit import ActorKind, AuditEvent
from nuevonorte.models.base import Base, utcnow
from nuevonorte.models.challenge import SpentChallenge
from nuevonorte.models.collection import Collection, CollectionEntry, CollectionStatus, EntryKind
from nuevonorte.models.consent import (
    PERMISSION_WORDS,
    PERMISSIONS,
    ConsentChoices,
    ConsentRecord,
    Credit,
    GivenBy,
    Visibility,
)
from nuevonorte.models.contributor_session import ContributorSession, Submission
from nuevonorte.models.draft import CuratorDraft
from nuevonorte.models.fixity import MediaFixity
from nuevonorte.models.job import ArchiveSetting, Job, JobKind, JobState
from nuevonorte.models.ledger import LedgerEntry
from nuevonorte.models.media import MediaFile, MediaKind
from nuevonorte.models.note import StoryNote
from nuevonorte.models.paper_form import WithdrawnPaperForm
from nuevonorte.models.partner import Partner, PartnerStory
from nuevonorte.models.publication import ChangeCounter, CollectionRecord, PublicRecord
from nuevonorte.models.rate_window import RateWindow
from nuevonorte.models.search import SearchLogEntry, SearchLogState
from nuevonorte.models.sensitive import SensitiveDismissal
from nuevonorte.models.staff import SignInFailure, StaffSession
from nuevonorte.models.story import Story, StoryStatus
from nuevonorte.models.term_count import CountedTerm, TermCount
from nuevonorte.models.transcript import Cue, Transcript, TranscriptSegment
from nuevonorte.models.translation import ParagraphTranslation, Provenance
from nuevonorte.models.vocabulary import Place, PlaceLevel, Theme

__all__ = [
    "PERMISSIONS",
    "PERMISSION_WORDS",
    "ActorKind",
    "ArchiveSetting",
    "AuditEvent",
    "Base",
    "ChangeCounter",
    "Collection",
    "CollectionEntry",
    "CollectionRecord",
    "CollectionStatus",
    "ConsentChoices",
    "ConsentRecord",
    "Contributor",
    "ContributorSession",
    "CountedTerm",
    "Credit",
    "Cue",
    "CuratorAccount",
    "CuratorDraft",
    "EntryKind",
    "GivenBy",
    "Job",
    "JobKind",
    "JobState",
    "LedgerEntry",
    "MediaFile",
    "MediaFixity",
    "MediaKind",
    "ParagraphTranslation",
    "Partner",
    "PartnerStory",
    "Place",
    "PlaceLevel",
    "Provenance",
    "PublicRecord",
    "RateWindow",
    "Role",
    "SearchLogEntry",
    "SearchLogState",
    "SensitiveDismissal",
    "SignInFailure",
    "SpentChallenge",
    "StaffSession",
    "Story",
    "StoryNote",
    "StoryStatus",
    "Submission",
    "TermCount",
    "Theme",
    "Transcript",
    "TranscriptSegment",
    "Visibility",
    "WithdrawnPaperForm",
    "utcnow",
]
