"""ari_app: an AI front desk for the Asterisk PBX, driven through ARI."""

__version__ = "0.1.0"
