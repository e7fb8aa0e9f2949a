"""Credit roles as the industry uses them, the sharing rules, and the rendered credit line.

A beatmaker made the instrumental ("Beat by"); a producer directed the whole record
("Produced by", abbreviated "Prod. by" in titles). Shares are basis points: 10000 = 100%.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence

from marketplace.common.shares import FULL_SHARE_BPS, percent

MAX_CREDITS = 50


class CreditRole(enum.StrEnum):
    PRODUCER = "producer"
    BEATMAKER = "beatmaker"
    CO_PRODUCER = "co_producer"
    SONGWRITER = "songwriter"
    COMPOSER = "composer"
    RECORDING_ENGINEER = "recording_engineer"
    MIX_ENGINEER = "mix_engineer"
    MASTERING_ENGINEER = "mastering_engineer"
    EXECUTIVE_PRODUCER = "executive_producer"


class CreditStatus(enum.StrEnum):
    """Whose consent a credit has. Only an accepted credit names an account; the others are
    typed names (a pending one waits for the invitee, whose share is held meanwhile)."""
    NAME_ONLY = "name_only"  # a name only: its profit share is paid to the owner
    ACCEPTED = "accepted"  # the linked account agreed (or is the owner's own)
    PENDING = "pending"
    DECLINED = "declined"
    EXPIRED = "expired"


# How each role is credited in full (contracts, file tags, beat pages).
ROLE_LABELS = {
    CreditRole.PRODUCER: "Produced by",
    CreditRole.BEATMAKER: "Beat by",
    CreditRole.CO_PRODUCER: "Co-produced by",
    CreditRole.SONGWRITER: "Written by",
    CreditRole.COMPOSER: "Music by",
    CreditRole.RECORDING_ENGINEER: "Recorded by",
    CreditRole.MIX_ENGINEER: "Mixed by",
    CreditRole.MASTERING_ENGINEER: "Mastered by",
    CreditRole.EXECUTIVE_PRODUCER: "Executive produced by",
}

# The short forms used in a track title's credit line, in the order they are written.
CREDIT_LINE_ROLES = [
    (CreditRole.PRODUCER, "Prod. by"),
    (CreditRole.BEATMAKER, "Beat by"),
    (CreditRole.CO_PRODUCER, "Co-prod. by"),
]

# The roles whose names fill a credit template's {producers}: those of the credit line.
PRODUCER_ROLES = frozenset(role for role, _ in CREDIT_LINE_ROLES)


@dataclasses.dataclass(frozen=True)
class CreditInput:
    name: str
    role: CreditRole
    user_id: str | None = None
    profit_share_bps: int | None = None
    publishing_share_bps: int | None = None
    master_points_bps: int | None = None

    @property
    def person(self) -> str:
        """Who this is, for duplicate checks: the account when linked, else the name."""
        return f"user:{self.user_id}" if self.user_id else f"name:{self.name.casefold()}"


class CreditRuleBroken(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def check_credit_rules(credits: Sequence[CreditInput], owner_id: str) -> None:
    """Raise CreditRuleBroken for the first rule the list breaks."""
    if not credits:
        raise CreditRuleBroken("credits", "A beat needs at least one credit: its owner.")
    if len(credits) > MAX_CREDITS:
        raise CreditRuleBroken("credits", f"At most {MAX_CREDITS} credits.")
    seen: set[tuple[str, str]] = set()
    for credit in credits:
        key = (credit.person, credit.role)
        if key in seen:
            raise CreditRuleBroken("credits", f"{credit.name} is credited as {credit.role} twice.")
        seen.add(key)
    if not any(credit.user_id == owner_id for credit in credits):
        raise CreditRuleBroken("credits", "The beat's owner must be credited.")
    profit_shares = [c.profit_share_bps for c in credits if c.profit_share_bps is not None]
    if profit_shares and sum(profit_shares) != FULL_SHARE_BPS:
        total = percent(sum(profit_shares))
        raise CreditRuleBroken("profit_share_bps",
                               f"Profit shares must add up to 100%; they add up to {total}.")
    publishing = sum(c.publishing_share_bps or 0 for c in credits)
    if publishing > FULL_SHARE_BPS:
        raise CreditRuleBroken("publishing_share_bps",
                               f"Publishing shares add up to {percent(publishing)}, more than 100%.")
    points = sum(c.master_points_bps or 0 for c in credits)
    if points > FULL_SHARE_BPS:
        raise CreditRuleBroken("master_points_bps",
                               f"Master points add up to {percent(points)}, more than 100%.")


def join_names(names: Sequence[str]) -> str:
    """"A", "A & B", "A, B & C"."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} & {names[-1]}"


def render_credit_line(credits: Sequence[tuple[str, str]]) -> str:
    """The credit line for (name, role) pairs in credit order.

    "Prod. by A & B", "Beat by C", "Prod. by A, co-prod. by B". When nobody holds a
    production role, the full labels of every credit are used instead.
    """
    return (_segments(credits, CREDIT_LINE_ROLES)
            or _segments(credits, list(ROLE_LABELS.items())))


def _segments(credits: Sequence[tuple[str, str]], labelled_roles: list[tuple[CreditRole, str]]) -> str:
    parts: list[str] = []
    for role, label in labelled_roles:
        names = list(dict.fromkeys(name for name, credit_role in credits if credit_role == role))
        if names:
            # Only the line's first word is capitalised: "Prod. by A, co-prod. by B".
            written = label if not parts else label[0].lower() + label[1:]
            parts.append(f"{written} {join_names(names)}")
    return ", ".join(parts)


def _role_labels_sql() -> str:
    """Each role's labels as SQL rows (role, line rank, line label, full rank, full label)."""
    line = {role: (rank, label) for rank, (role, label) in enumerate(CREDIT_LINE_ROLES)}
    rows = []
    for rank, (role, label) in enumerate(ROLE_LABELS.items()):
        line_rank, line_label = line.get(role, ("NULL", "NULL"))
        line_label = f"'{line_label}'" if line_label != "NULL" else line_label
        rows.append(f"('{role.value}', {line_rank}, {line_label}, {rank}, '{label}')")
    return ", ".join(rows)


def credit_line_sql(beat_id: str) -> str:
    """SQL for render_credit_line of the credits of the beat whose id is the SQL `beat_id`,
    for PostgreSQL: the line's roles when any credit holds one, else every role's full label;
    each role's distinct names in credit order."""
    line_roles = ", ".join(f"'{role.value}'" for role, _label in CREDIT_LINE_ROLES)
    return f"""(SELECT coalesce(string_agg(
        CASE WHEN segment = 1 THEN label ELSE lower(left(label, 1)) || substr(label, 2) END || ' ' ||
        CASE WHEN cardinality(names) = 1 THEN names[1]
             ELSE array_to_string(names[1:cardinality(names) - 1], ', ') || ' & ' || names[cardinality(names)] END,
        ', ' ORDER BY segment), '')
      FROM (SELECT label, names, row_number() OVER (ORDER BY rank) AS segment
            FROM (SELECT CASE WHEN credited.line THEN labels.line_rank ELSE labels.full_rank END AS rank,
                         CASE WHEN credited.line THEN labels.line_label ELSE labels.full_label END AS label,
                         array_agg(credited.name ORDER BY credited.first_position) AS names
                  FROM (SELECT role, name, min(position) AS first_position,
                               bool_or(role IN ({line_roles})) OVER () AS line
                        FROM beat_credits WHERE beat_credits.beat_id = {beat_id} GROUP BY role, name) AS credited
                  JOIN (VALUES {_role_labels_sql()}) AS labels (role, line_rank, line_label, full_rank, full_label)
                    ON labels.role = credited.role
                  WHERE CASE WHEN credited.line THEN labels.line_rank ELSE labels.full_rank END IS NOT NULL
                  GROUP BY 1, 2) AS roles) AS segments)"""
