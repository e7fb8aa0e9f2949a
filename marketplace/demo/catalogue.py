"""What the demo store holds: accounts with public passwords, three beatmakers with their own
tags, eight beats with credits that tell beatmakers from producers, a coupon and a bulk deal,
and two reports waiting in the admin queue.

The passwords are public on purpose: `make run` serves on 127.0.0.1 only, and `flask seed
demo` refuses to run outside development and testing.
"""

from __future__ import annotations

import dataclasses

from marketplace.accounts.models import Role

Colour = tuple[int, int, int]


@dataclasses.dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    display_name: str
    role: Role
    tag_notes: tuple[int, ...] = ()  # a beatmaker's producer tag: a chime of these MIDI notes
    handle: str | None = None  # a beatmaker's public page, /p/<handle>


ADMIN = DemoAccount("admin@demo.test", "demo-console-password", "Demo Admin", Role.ADMIN)
BEATMAKER = DemoAccount("beatmaker@demo.test", "demo-studio-password", "Demo Beatmaker", Role.BEATMAKER,
                        tag_notes=(76, 79, 84), handle="demobeats")
KAYA = DemoAccount("keys@demo.test", "demo-piano-password", "Kaya Keys", Role.BEATMAKER,
                   tag_notes=(72, 76, 79, 83), handle="kayakeys")
MARCUS = DemoAccount("vale@demo.test", "demo-drums-password", "Marcus Vale", Role.BEATMAKER,
                     tag_notes=(84, 79, 72), handle="marcusvale")
ARTIST = DemoAccount("artist@demo.test", "demo-vocals-password", "Demo Artist", Role.ARTIST)
RHEA = DemoAccount("rhea@demo.test", "demo-lyrics-password", "Rhea Verse", Role.ARTIST)
DEMO_ACCOUNTS = [ADMIN, BEATMAKER, KAYA, MARCUS, ARTIST, RHEA]
BEATMAKERS = [account for account in DEMO_ACCOUNTS if account.tag_notes]

# A mix engineer without an account: credited by name, paid outside the store.
MIX_ENGINEER = "Lena Park"


@dataclasses.dataclass(frozen=True)
class DemoCredit:
    """One credit: a demo account (linked) or a bare name. Shares in basis points (10000 = 100%)."""

    who: DemoAccount | str
    role: str
    profit_share_bps: int | None = None
    publishing_share_bps: int | None = None


@dataclasses.dataclass(frozen=True)
class DemoBeat:
    owner: DemoAccount
    title: str
    genre: str
    key: str
    bpm: int
    mood: str
    tags: tuple[str, ...]
    description: str
    cover: tuple[Colour, Colour]  # gradient from top to bottom
    credits: tuple[DemoCredit, ...]
    with_stems: bool = False


def _solo(owner: DemoAccount, role: str = "producer") -> tuple[DemoCredit, ...]:
    return (DemoCredit(owner, role, 10_000, 10_000),)


DEMO_BEATS = [
    DemoBeat(BEATMAKER, "Midnight Drive", "trap", "F# minor", 140, "dark", ("808", "night", "hard"),
             "Sliding 808s under a cold minor progression. Trackout included from the Trackout lease up.",
             ((28, 18, 74), (214, 80, 64)),
             # "Prod. by Demo Beatmaker"; the mix engineer is credited but takes no share.
             (DemoCredit(BEATMAKER, "producer", 10_000, 10_000), DemoCredit(MIX_ENGINEER, "mix_engineer")),
             with_stems=True),
    DemoBeat(BEATMAKER, "Concrete Letters", "boom bap", "D minor", 90, "nostalgic", ("dusty", "swing"),
             "Swung drums and a walking bass for storytellers.", ((52, 44, 38), (196, 160, 102)),
             # "Prod. by Demo Beatmaker & Marcus Vale": two producers, even shares.
             (DemoCredit(BEATMAKER, "producer", 5_000, 5_000), DemoCredit(MARCUS, "producer", 5_000, 5_000))),
    DemoBeat(BEATMAKER, "Paper Lanterns", "lo-fi", "Eb major", 80, "chill", ("study", "warm", "keys"),
             "Soft keys and a lazy swing for late evenings.", ((24, 64, 92), (240, 196, 120)),
             # "Prod. by Kaya Keys, beat by Demo Beatmaker": Kaya directed the record, the owner
             # made the beat.
             (DemoCredit(BEATMAKER, "beatmaker", 7_000, 6_000), DemoCredit(KAYA, "producer", 3_000, 4_000))),
    DemoBeat(BEATMAKER, "Southside Sirens", "drill", "G minor", 142, "aggressive", ("uk drill", "sliding"),
             "Off-beat kicks and a menacing bassline.", ((10, 10, 14), (120, 20, 40)), _solo(BEATMAKER)),
    DemoBeat(BEATMAKER, "Lagos Sunset", "afrobeats", "A major", 105, "happy", ("dance", "summer"),
             "Bouncy percussion and bright chords, co-produced with Kaya Keys and mixed by Lena Park.",
             ((250, 170, 60), (210, 60, 90)),
             # "Prod. by Demo Beatmaker, co-prod. by Kaya Keys", shares 60/40.
             (DemoCredit(BEATMAKER, "producer", 6_000, 5_000), DemoCredit(KAYA, "co_producer", 4_000, 5_000),
              DemoCredit(MIX_ENGINEER, "mix_engineer")),
             with_stems=True),
    DemoBeat(KAYA, "Velvet Hours", "r&b", "Bb minor", 95, "romantic", ("smooth", "slow jam"),
             "Lush chords and a patient groove.", ((60, 20, 60), (230, 120, 160)), _solo(KAYA, "beatmaker")),
    DemoBeat(KAYA, "Glass Skyline", "trap", "C minor", 150, "epic", ("cinematic", "808"),
             "Wide chords over a driving trap pattern.", ((20, 40, 70), (120, 200, 230)), _solo(KAYA)),
    DemoBeat(MARCUS, "Late Tram Home", "lo-fi", "C# minor", 74, "melancholic", ("rainy", "tape", "jazz"),
             "Tape-warm chords and a tired kick for the ride home.", ((36, 52, 60), (150, 170, 150)),
             # "Prod. by Marcus Vale, co-prod. by Demo Beatmaker", mixed by Lena Park.
             (DemoCredit(MARCUS, "producer", 7_500, 7_500),
              DemoCredit(BEATMAKER, "co_producer", 2_500, 2_500),
              DemoCredit(MIX_ENGINEER, "mix_engineer"))),
]


@dataclasses.dataclass(frozen=True)
class DemoReport:
    reporter: DemoAccount
    beat_title: str
    reason: str
    details: str


DEMO_REPORTS = [
    DemoReport(ARTIST, "Southside Sirens", "uncleared_sample",
               "The lead sounds like a sample from a 1970s soul record."),
    DemoReport(RHEA, "Glass Skyline", "stolen_beat",
               "I bought the same chords and drums from another producer last year."),
]

# The demo beatmaker's promotions.
COUPON = {"code": "DEMO10", "kind": "percent", "percent_off": 10, "amount_off": None, "beat_id": None,
          "expires_at": None, "max_redemptions": None}
DEAL = {"buy_count": 2, "free_count": 1}
