"""Projects the identity service's own events, and the pledge service's directory events it
consumes, into its read models (`read_models.sql` plus `shared.directory`'s copy of the
hierarchy: `directory=True`, which tells where each branch and township sits).

The table below is the one list of which step projects which event. Everything written
comes from the event (its data, time and actor), never from now(), so a rebuild gives
exactly the same rows.
"""

from __future__ import annotations

from importlib import resources

from services.identity.events import REGISTRY
from services.identity.projections import people
from shared.directory import DIRECTORY_DDL
from shared.projections import Projection, ReadModels

DDL = DIRECTORY_DDL + (
    resources.files("services.identity").joinpath("read_models.sql").read_text(encoding="utf-8")
)

PROJECTION = Projection(
    "identity",
    {
        "PersonRegistered": people.registered,
        "PersonRenamed": people.renamed,
        "PostStarted": people.post_started,
        "PostEnded": people.post_ended,
        "PersonLocked": people.locked,
        "PersonUnlocked": people.unlocked,
        "CredentialSet": people.credential_set,
        "UpstreamLinked": people.upstream_linked,
    },
    directory=True,
)

READ_MODELS = ReadModels(ddl=DDL, project=PROJECTION, upcast=REGISTRY.upcast)
