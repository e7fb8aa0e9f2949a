"""Licensing: beatmakers' license tiers, the offers a beat is sold under, and the licenses
issued at sale, with frozen terms, a contract and the delivered files."""
