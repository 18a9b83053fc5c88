"""``ari.outbound.asterisks``: each Asterisk's HTTP ARI base URL, by asterisk_id or
systemname (issue 17: a voicemail is fetched from the Asterisk that recorded it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ari_app.config import ConfigError, load_config

ARI = "  app: ari-app                        # Stasis application name used in the dialplan\n"


def _with_asterisks(config_dir: Path, mapping: str) -> Path:
    path = config_dir / "app.yaml"
    text = path.read_text()
    assert text.count(ARI) == 1
    path.write_text(
        text.replace(ARI, f"{ARI}  mode: outbound\n  outbound:\n    asterisks:\n{mapping}")
    )
    return config_dir


def test_ids_and_system_names_map_to_base_urls(config_dir: Path) -> None:
    mapping = (
        "      ast2: http://asterisk2:8088\n      '02:42:ac:11:00:02': https://10.0.0.2:8089/\n"
    )
    app = load_config(_with_asterisks(config_dir, mapping)).app
    assert app.ari.outbound.asterisks == {
        "ast2": "http://asterisk2:8088",
        "02:42:ac:11:00:02": "https://10.0.0.2:8089/",
    }


def test_the_default_is_no_mapping(config_dir: Path) -> None:
    assert load_config(config_dir).app.ari.outbound.asterisks == {}


@pytest.mark.parametrize(
    ("mapping", "says"),
    [
        ("      ast2: http://ari_app:s3cret-Pa55@asterisk2:8088\n", "user or password"),
        ("      ast2: ftp://asterisk2\n", "ari.outbound.asterisks.ast2"),
        ("      ast2: http://asterisk2:8088/ari\n", "no path"),
        ("      ast2: http://asterisk2:8088/?x=1\n", "no path"),
        ("      'ast 2': http://asterisk2:8088\n", "ari.outbound.asterisks"),
    ],
)
def test_bad_entries_are_refused(config_dir: Path, mapping: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_with_asterisks(config_dir, mapping))
    text = "\n".join(str(p) for p in caught.value.problems)
    assert says in text, text
    assert "s3cret-Pa55" not in text
