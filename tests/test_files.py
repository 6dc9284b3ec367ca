"""Result files are replaced whole or not at all."""

from __future__ import annotations

import json

import pytest

from a2dl.files import atomic_write, write_json


def test_an_interrupted_write_leaves_the_old_file_intact(tmp_path):
    path = tmp_path / "runs.json"
    write_json(path, [{"run": 1}])

    def half_then_crash(temporary):
        temporary.write_text('[{"run": 1}, {"ru')
        raise KeyboardInterrupt  # Ctrl-C in the middle of writing

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, half_then_crash)
    assert json.loads(path.read_text()) == [{"run": 1}]
    assert [p.name for p in tmp_path.iterdir()] == ["runs.json"]  # no temporary left behind
    write_json(path, [{"run": 1}, {"run": 2}])
    assert json.loads(path.read_text()) == [{"run": 1}, {"run": 2}]
