"""Background jobs: long media work done by ``nuevonorte worker``, never inside a request.

- ``records``: the ``job`` table, the archive's own account of each job (requested, claimed
  under a lease, renewed, finished, failed with a reason, cancelled) and recovery;
- ``queue``: the engine (Huey: SQLite in the instance folder by default, Redis when
  ``queue_url`` names one), which carries nothing but a job's id;
- ``runner``: one job run, whatever its kind: claim, lease, work, and its end with a reason;
- ``drafts``: the draft-transcript job; ``silencing``: the public copy of a recording with its
  withheld seconds silent;
- ``worker``: the consumer behind ``nuevonorte worker``;
- ``messages``: what each state and reason means, in the curator's language.

Docs: docs/jobs.md; decision docs/decisions/0023.
"""
