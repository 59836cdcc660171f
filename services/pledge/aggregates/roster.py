"""A roster import (issue 19), decided: the rows of a roster workbook against the directory
as it stands, planned as the directory's own events (who is new, who moved, who left, whose
post changed, which secretary changes, which branch is new or retired), each row checked.
Pure; the handler executes the plan through the Branch and Member aggregates, which decide
each event as they do for one request.

A roster is complete: an active member (branch) of the scope who is not in it has left (is
retired); a CSV holds one sheet: a CSV of members leaves the branches as they are.
Existing records are matched by their id (the template carries it), else by name: a branch
by its township and name, a member by name when exactly one active member of the scope has
it."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import astuple, dataclass, field
from typing import Any

from services.pledge.documents.roster_xlsx import BRANCHES, KINDS, MEMBERS, YES
from services.pledge.events import BranchKind
from shared.text import one_line, several_lines
from shared.workbook import Row, RowError, check_rows

LEFT_REASON = "名册导入：新名册中没有该党员"
BRANCH_GONE_REASON = "名册导入：新名册中没有该支部"


@dataclass(frozen=True)
class KnownBranch:
    branch_id: str
    township_id: str
    name: str
    kind: str
    village: str | None
    secretary_id: str | None


@dataclass(frozen=True)
class KnownMember:
    member_id: str
    branch_id: str
    township_id: str
    name: str
    post: str
    duties: str
    leadership_team: bool


@dataclass(frozen=True)
class Scope:
    """What the roster covers: one township, or every township of a county."""

    kind: str  # "township" | "county"
    scope_id: str
    townships: dict[str, str]  # id -> name, the townships covered
    branches: tuple[KnownBranch, ...]  # active ones
    members: tuple[KnownMember, ...]  # active ones

    def basis(self) -> str:
        """A fingerprint of the state planned against: a confirm on another state re-plans."""
        state = [
            sorted(self.townships.items()),
            sorted(astuple(b) for b in self.branches),
            sorted(astuple(m) for m in self.members),
        ]
        return hashlib.sha256(json.dumps(state, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class Change:
    """One event the import will append. `branch` / `member` are ids, or for what the
    import creates `new:<township>:<name>` / `row:<row>`."""

    event: str
    text: str  # what it says, in Chinese
    township_id: str
    branch: str | None = None
    member: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        return {"event": self.event, "text": self.text, "township_id": self.township_id}


@dataclass
class Plan:
    changes: list[Change]
    errors: list[RowError]
    rows: int

    def townships(self) -> set[str]:
        """The townships the plan's changes are in or move to."""
        named = {c.township_id for c in self.changes}
        return named | {
            c.data["to_township_id"] for c in self.changes if "to_township_id" in c.data
        }

    def summary(self) -> dict[str, int]:
        counts = Counter(c.event for c in self.changes)
        return {
            "branches_new": counts["BranchEstablished"],
            "branches_retired": counts["BranchRetired"],
            "members_new": counts["MemberEnrolled"],
            "members_moved": counts["MemberTransferred"],
            "members_left": counts["MemberRetired"],
            "posts_changed": counts["MemberPostAssigned"],
            "secretaries_changed": counts["BranchSecretaryAppointed"],
        }

    def preview(self, listed: int = 1000) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "events": len(self.changes),
            "changes": [c.view() for c in self.changes[:listed]],
            "more": max(0, len(self.changes) - listed),
        }


def _text(value: str, several: bool = False) -> str | None:
    try:
        return several_lines(value) if several else one_line(value)
    except ValueError:
        return None


def plan_roster(scope: Scope, rows: dict[str, list[Row]]) -> Plan:
    branch_rows, member_rows = rows.get(BRANCHES.name, []), rows.get(MEMBERS.name, [])
    errors = check_rows(BRANCHES, branch_rows) + check_rows(MEMBERS, member_rows)
    bad = {(e.sheet, e.row) for e in errors}

    def wrong(row: Row, column: str, reason: str) -> None:
        errors.append(RowError(row.sheet, row.number, column, reason))
        bad.add((row.sheet, row.number))

    by_township_name = {name: tid for tid, name in scope.townships.items()}
    known_branch = {b.branch_id: b for b in scope.branches}
    branch_by_name = {(b.township_id, b.name): b for b in scope.branches}
    known_member = {m.member_id: m for m in scope.members}
    members_named = Counter(m.name for m in scope.members)
    member_by_name = {m.name: m for m in scope.members}
    changes: list[Change] = []

    # --- branches: their keys by (township, name) -----------------------------------
    branches: dict[str, tuple[str, str, Row | None]] = {}  # name -> (key, township, row)
    listed: set[str] = set()
    for row in branch_rows:
        v = row.values
        township = _township(scope, by_township_name, v["乡镇"])
        if township is None:
            wrong(row, "乡镇", "乡镇不在本名册范围内" if v["乡镇"] else "全县名册须填写乡镇")
            continue
        name = _text(v["支部名称"])
        if name is None or (row.sheet, row.number) in bad:
            if name is None and v["支部名称"]:
                wrong(row, "支部名称", "含有不允许的字符")
            continue
        if name in branches:
            wrong(row, "支部名称", "支部名称重复（同一名册中支部名称不能相同）")
            continue
        village = _text(v["所在村"]) if v["所在村"] else None
        if v["所在村"] and village is None:
            wrong(row, "所在村", "含有不允许的字符")
            continue
        kind = KINDS[v["类型"]]
        if v["支部编号"]:
            existing = known_branch.get(v["支部编号"])
            if existing is None:
                wrong(row, "支部编号", "编号不存在或该支部已撤销：新支部请留空")
                continue
        else:
            existing = branch_by_name.get((township, name))
        if existing is not None:
            if existing.branch_id in listed:
                wrong(row, "支部编号", "同一支部出现了两次")
                continue
            if existing.name != name:
                wrong(row, "支部名称", f"与系统中的名称“{existing.name}”不同：支部不能通过导入改名")
                continue
            if existing.kind != kind:
                wrong(row, "类型", "支部类型不能通过导入修改")
                continue
            listed.add(existing.branch_id)
            if existing.township_id != township:
                if scope.kind != "county":
                    wrong(row, "乡镇", "支部在乡镇之间迁移须由县级管理员办理")
                    continue
                changes.append(
                    Change(
                        "BranchMoved",
                        f"支部迁移：{name}（{scope.townships[existing.township_id]} → "
                        f"{scope.townships[township]}）",
                        township,
                        branch=existing.branch_id,
                        data={"to_township_id": township},
                    )
                )
            branches[name] = (existing.branch_id, township, row)
        else:
            key = f"new:{township}:{name}"
            branches[name] = (key, township, row)
            changes.append(
                Change(
                    "BranchEstablished",
                    f"新建支部：{name}（{scope.townships[township]}）",
                    township,
                    branch=key,
                    data={"name": name, "kind": str(kind), "village": village},
                )
            )

    if BRANCHES.name not in rows:  # a CSV of the members only: the branches as they are
        for b in scope.branches:
            branches.setdefault(b.name, (b.branch_id, b.township_id, None))
            listed.add(b.branch_id)

    # --- members -----------------------------------------------------------------------
    placed: dict[str, str] = {}  # member key -> branch key
    names_in_branch: dict[tuple[str, str], list[str]] = {}  # (branch key, name) -> member keys
    seen_members: set[str] = set()
    for row in member_rows:
        v = row.values
        if (row.sheet, row.number) in bad:
            continue
        name, post, duties = _text(v["姓名"]), _text(v["岗位"]), _text(v["职责"], several=True)
        for value, column in ((name, "姓名"), (post, "岗位"), (duties, "职责")):
            if value is None:
                wrong(row, column, "含有不允许的字符")
        if name is None or post is None or duties is None:
            continue
        target = branches.get(v["所在支部"])
        if target is None:
            wrong(row, "所在支部", "“支部”表中没有这个支部")
            continue
        branch_key, township, _ = target
        leader = v["班子成员"] == YES
        found: KnownMember | None
        if v["党员编号"]:
            found = known_member.get(v["党员编号"])
            if found is None:
                wrong(row, "党员编号", "编号不存在或该党员已离开：新党员请留空")
                continue
        elif members_named[name] > 1:
            wrong(row, "党员编号", f"名册中有 {members_named[name]} 位“{name}”：请填写党员编号")
            continue
        else:
            found = member_by_name.get(name)
        if found is not None:
            if found.member_id in seen_members:
                wrong(row, "姓名" if not v["党员编号"] else "党员编号", "同一党员出现了两次")
                continue
            seen_members.add(found.member_id)
            key = found.member_id
            if found.name != name:
                wrong(row, "姓名", f"与系统中的姓名“{found.name}”不同：姓名不能通过导入修改")
                continue
            if found.branch_id != branch_key:
                changes.append(
                    Change(
                        "MemberTransferred",
                        f"党员调动：{name}（{_branch_name(scope, found.branch_id)} → "
                        f"{v['所在支部']}）",
                        township,
                        branch=branch_key,
                        member=key,
                    )
                )
            if (found.post, found.duties, found.leadership_team) != (
                post,
                duties,
                leader,
            ):
                changes.append(
                    Change(
                        "MemberPostAssigned",
                        f"岗位变更：{name}（{found.post} → {post}）",
                        township,
                        member=key,
                        data={"post": post, "duties": duties, "leadership_team": leader},
                    )
                )
        else:
            key = f"row:{row.number}"
            changes.append(
                Change(
                    "MemberEnrolled",
                    f"新党员：{name}（{v['所在支部']}，{post}）",
                    township,
                    branch=branch_key,
                    member=key,
                    data={"name": name, "post": post, "duties": duties, "leadership_team": leader},
                )
            )
        placed[key] = branch_key
        names_in_branch.setdefault((branch_key, name), []).append(key)

    # --- secretaries -----------------------------------------------------------------------
    for branch_name, (branch_key, township, line) in branches.items():
        if line is None or not line.values["支部书记"]:
            continue
        row, wanted = line, line.values["支部书记"]
        holders = names_in_branch.get((branch_key, wanted), [])
        if len(holders) != 1:
            reason = (
                "不是本支部“党员”表中的党员" if not holders else "本支部有同名党员：无法确定书记"
            )
            wrong(row, "支部书记", reason)
            continue
        current = known_branch[branch_key].secretary_id if branch_key in known_branch else None
        if holders[0] != current:
            changes.append(
                Change(
                    "BranchSecretaryAppointed",
                    f"书记变更：{branch_name} 书记为 {wanted}",
                    township,
                    branch=branch_key,
                    member=holders[0],
                )
            )

    # --- who left, which branch is gone ----------------------------------------------------
    branch_names = {b.branch_id: b.name for b in scope.branches}
    for m in scope.members:
        if m.member_id not in placed:
            changes.append(
                Change(
                    "MemberRetired",
                    f"党员离开：{m.name}（{branch_names.get(m.branch_id, '')}）",
                    m.township_id,
                    member=m.member_id,
                    data={"reason": LEFT_REASON},
                )
            )
    for b in scope.branches:
        if b.branch_id not in listed:
            changes.append(
                Change(
                    "BranchRetired",
                    f"撤销支部：{b.name}（{scope.townships.get(b.township_id, '')}）",
                    b.township_id,
                    branch=b.branch_id,
                    data={"reason": BRANCH_GONE_REASON},
                )
            )
    errors.sort(key=lambda e: (e.sheet != BRANCHES.name, e.row, e.column))
    return Plan(changes if not errors else [], errors, len(branch_rows) + len(member_rows))


def _township(scope: Scope, by_name: dict[str, str], given: str) -> str | None:
    if not given:
        return scope.scope_id if scope.kind == "township" else None
    return by_name.get(given)


def _branch_name(scope: Scope, branch_id: str) -> str:
    return next((b.name for b in scope.branches if b.branch_id == branch_id), branch_id)


__all__ = ["BranchKind", "Change", "KnownBranch", "KnownMember", "Plan", "Scope", "plan_roster"]
