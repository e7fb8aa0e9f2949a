"""The five tier templates every beatmaker starts with, from published producer contracts
(2024-2026). All of it is editable; these are only starting points."""

from __future__ import annotations

DEFAULT_TIERS = [
    {"name": "Basic lease", "kind": "lease", "deliverables": ["mp3"],
     "limits": {"distribution_copies": 2_500, "audio_streams": 50_000, "music_videos": 1,
                "radio_stations": 2, "paid_performances": None},
     "term_years": 10, "default_price": 2_999},
    {"name": "Premium lease", "kind": "lease", "deliverables": ["mp3", "wav"],
     "limits": {"distribution_copies": 5_000, "audio_streams": 150_000, "music_videos": 1,
                "radio_stations": 2, "paid_performances": None},
     "term_years": 10, "default_price": 4_999},
    {"name": "Trackout lease", "kind": "lease", "deliverables": ["mp3", "wav", "stems"],
     "limits": {"distribution_copies": 10_000, "audio_streams": 500_000, "music_videos": 3,
                "radio_stations": None, "paid_performances": None},
     "term_years": 10, "default_price": 9_999},
    {"name": "Unlimited lease", "kind": "lease", "deliverables": ["mp3", "wav", "stems"],
     "limits": {"distribution_copies": None, "audio_streams": None, "music_videos": None,
                "radio_stations": None, "paid_performances": None},
     "term_years": None, "default_price": 19_999},
    {"name": "Exclusive rights", "kind": "exclusive", "deliverables": ["mp3", "wav", "stems"],
     "limits": {"distribution_copies": None, "audio_streams": None, "music_videos": None,
                "radio_stations": None, "paid_performances": None},
     "term_years": None, "default_price": 49_999},
]

# Common to every template: the "Prod. by" credit is required, the producer keeps the
# composition's copyright and half the writer's share, leases may not claim Content ID.
COMMON_TERMS = {"credit_line_template": "{credit_line}", "publishing_share_bps": 5_000,
                "master_points_bps": 0}
CONTENT_ID_BY_KIND = {"lease": "not_allowed", "exclusive": "allowed"}
