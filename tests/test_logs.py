from __future__ import annotations

import json
import logging

from stockstatus.core.logs import JsonLines, configure


def test_json_lines_carry_message_level_and_extra_fields():
    record = logging.makeLogRecord(
        {
            "name": "connector.sync",
            "levelno": logging.WARNING,
            "levelname": "WARNING",
            "msg": "store %s recovered",
            "args": ("eu-shop",),
            "store": "eu-shop",
        }
    )
    line = json.loads(JsonLines().format(record))
    assert line["message"] == "store eu-shop recovered"
    assert (line["level"], line["logger"], line["store"]) == ("warning", "connector.sync", "eu-shop")


def test_request_and_scheduler_lines_are_hidden_unless_debugging():
    root = logging.getLogger()
    chatty = [logging.getLogger(name) for name in ("httpx", "apscheduler")]
    saved = (root.handlers[:], root.level, [logger.level for logger in chatty])
    try:
        configure("INFO", "text")
        assert [logger.getEffectiveLevel() for logger in chatty] == [logging.WARNING] * 2
        configure("DEBUG", "json")
        assert [logger.getEffectiveLevel() for logger in chatty] == [logging.DEBUG] * 2
        assert isinstance(root.handlers[0].formatter, JsonLines)
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        for logger, level in zip(chatty, saved[2], strict=True):
            logger.setLevel(level)
