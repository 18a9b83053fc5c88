"""Sub-commands of ``ari-app``; every module here is picked up by ``ari_app.cli``."""
