from __future__ import annotations

import json
import logging

from connector.logs import JsonLines, configure


def test_json_lines_carry_message_level_and_extra_fields():
    record = logging.makeLogRecord(
        {"name": "connector.sync", "levelno": logging.WARNING, "levelname": "WARNING",
         "msg": "store %s recovered", "args": ("eu-shop",), "store": "eu-shop"}
    )
    line = json.loads(JsonLines().format(record))
    assert line["message"] == "store eu-shop recovered"
    assert (line["level"], line["logger"], line["store"]) == ("warning", "connector.sync", "eu-shop")


def test_request_lines_are_hidden_unless_debugging():
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("httpx").level)
    try:
        configure("INFO", "text")
        assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
        configure("DEBUG", "json")
        assert logging.getLogger("httpx").getEffectiveLevel() == logging.DEBUG
        assert isinstance(root.handlers[0].formatter, JsonLines)
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        logging.getLogger("httpx").setLevel(saved[2])
