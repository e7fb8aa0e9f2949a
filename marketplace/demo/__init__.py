"""The demo store `make run` opens on (`flask seed demo`): what it holds (catalogue), how it is
built with the services the API uses (seed), and its generated cover art (covers). The audio is
synthesized by marketplace.audio.synth."""
