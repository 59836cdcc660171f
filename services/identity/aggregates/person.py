"""A person and the posts they hold: each post is a role at a place (a "hat"); a token
carries one. Directory posts follow the pledge service's directory; the rest are granted
here. Pure; no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.identity.events import (
    CredentialKind,
    CredentialSet,
    PersonLocked,
    PersonRegistered,
    PersonRenamed,
    PersonUnlocked,
    PostEnded,
    PostSource,
    PostStarted,
    UpstreamLinked,
)
from shared import zh
from shared.aggregate import Aggregate
from shared.auth import Role
from shared.errors import InvalidInput, InvalidState
from shared.events import DomainEvent

# posts the directory does not hold: granted and revoked here
GRANTABLE = frozenset(
    {Role.COUNTY_ADMIN, Role.AUDITOR, Role.TOWNSHIP_COMMITTEE, Role.TOWNSHIP_OFFICE}
)
# posts that follow the directory (member, branch secretary, the head on the committee)
DIRECTORY = frozenset({Role.MEMBER, Role.BRANCH_SECRETARY, Role.TOWNSHIP_COMMITTEE})


@dataclass(frozen=True)
class Post:
    role: Role
    org: str
    source: PostSource

    @property
    def key(self) -> tuple[str, str]:
        return (self.role.value, self.org)


def stream_of(person_id: str) -> str:
    return f"person-{person_id}"


class Person(Aggregate):
    def blank(self) -> None:
        self.person_id = ""
        self.name = ""
        self.county_id = ""
        self.posts: dict[tuple[str, str], Post] = {}
        self.locked = False
        self.lock_until: datetime | None = None  # a brute-force lock's end; None: until unlocked
        self.credentials: set[CredentialKind] = set()
        self.links: set[tuple[str, str]] = set()  # (issuer, subject hash) at county providers

    @classmethod
    def register(
        cls, person_id: str, name: str, county_id: str, source: PostSource, by: str
    ) -> Person:
        if not name.strip():
            raise InvalidInput("请填写姓名。", field="name")
        person = cls(stream_of(person_id), county_id)
        person._record(
            PersonRegistered(
                person_id=person_id, name=name, county_id=county_id, source=source, by=by
            )
        )
        return person

    def rename(self, name: str, by: str) -> None:
        if name != self.name:
            self._record(PersonRenamed(person_id=self.person_id, name=name, by=by))

    def holds(self, role: Role, org: str) -> bool:
        return (role.value, org) in self.posts

    def start_post(
        self, role: Role, org: str, source: PostSource, at: datetime, by: str, reason: str
    ) -> None:
        if source is PostSource.GRANT and role not in GRANTABLE:
            raise InvalidInput(
                f"“{zh.label(role)}”岗位随支部名册确定，不在此授予：请在“支部与党员”中修改。",
                field="role",
            )
        if self.holds(role, org):
            if source is PostSource.GRANT:
                raise InvalidState(
                    f"{self.person_id} 已担任{org}的“{zh.label(role)}”，无需重复授予。"
                )
            return  # the directory says again what it said: nothing changes
        self._record(
            PostStarted(
                person_id=self.person_id,
                role=role.value,
                org=org,
                at=at,
                source=source,
                by=by,
                reason=reason,
            )
        )

    def end_post(
        self, role: Role, org: str, at: datetime, by: str, reason: str, *, source: PostSource
    ) -> None:
        post = self.posts.get((role.value, org))
        if post is None:
            if source is PostSource.GRANT:
                raise InvalidState(
                    f"{self.person_id} 没有担任{org}的“{zh.label(role)}”，无需收回。"
                )
            return
        if source is PostSource.GRANT and post.source is PostSource.DIRECTORY:
            raise InvalidState(
                f"{org}的“{zh.label(role)}”岗位是党委书记的，随书记任命确定：请在“乡镇与日历”中任命新的党委书记。"
                if role is Role.TOWNSHIP_COMMITTEE  # the directory's seat is the head's
                else f"{org}的“{zh.label(role)}”岗位随支部名册确定：请在“支部与党员”中修改。"
            )
        self._record(
            PostEnded(
                person_id=self.person_id,
                role=role.value,
                org=org,
                at=at,
                source=post.source,
                by=by,
                reason=reason,
            )
        )

    def end_directory_posts(
        self, at: datetime, by: str, reason: str, *, org: str | None = None
    ) -> None:
        """Every post the directory gave (at `org` only, when named): a retirement, a move."""
        for post in list(self.posts.values()):
            if post.source is PostSource.DIRECTORY and (org is None or post.org == org):
                self.end_post(post.role, post.org, at, by, reason, source=PostSource.DIRECTORY)

    def lock(self, at: datetime, by: str, reason: str, until: datetime | None = None) -> None:
        """Locked until unlocked (an administrator), or until `until` (repeated failures).
        An administrator may lock a person a brute-force lock holds, for good."""
        if self.locked and (self.lock_until is None or until is not None):
            raise InvalidState(f"{self.person_id} 的账号已经锁定。")
        self._record(
            PersonLocked(person_id=self.person_id, at=at, by=by, reason=reason, until=until)
        )

    def unlock(self, at: datetime, by: str) -> None:
        if not self.locked:
            raise InvalidState(f"{self.person_id} 的账号没有锁定，无需解锁。")
        self._record(PersonUnlocked(person_id=self.person_id, at=at, by=by))

    def credential_set(self, kind: CredentialKind, at: datetime, by: str) -> None:
        self._record(CredentialSet(person_id=self.person_id, kind=kind, at=at, by=by))

    def link_upstream(self, issuer: str, subject_hash: str, attribute: str, at: datetime) -> None:
        """The first sign-in at a county's provider as this person links the two."""
        if (issuer, subject_hash) not in self.links:
            self._record(
                UpstreamLinked(
                    person_id=self.person_id,
                    issuer=issuer,
                    subject_hash=subject_hash,
                    attribute=attribute,
                    at=at,
                )
            )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case PersonRegistered():
                self.person_id = event.person_id
                self.name = event.name
                self.county_id = event.county_id
            case PersonRenamed():
                self.name = event.name
            case PostStarted():
                post = Post(Role(event.role), event.org, event.source)
                self.posts[post.key] = post
            case PostEnded():
                self.posts.pop((event.role, event.org), None)
            case PersonLocked():
                self.locked = True
                self.lock_until = event.until
            case PersonUnlocked():
                self.locked = False
                self.lock_until = None
            case CredentialSet():
                self.credentials.add(event.kind)
            case UpstreamLinked():
                self.links.add((event.issuer, event.subject_hash))
