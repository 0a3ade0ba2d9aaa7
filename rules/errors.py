"""The one exception of the rules engine: a rule list that cannot be compiled."""

from __future__ import annotations

from collections.abc import Iterable


class RuleError(ValueError):
    """The rules are invalid; `problems` lists every problem found, not just the first.

    Each problem names the rule by position and name and the key, e.g.
    `rules[2] ("sold out").when.available: "<== 0" is not a comparison like "<= 0"`.
    """

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: list[str] = list(problems)
        if len(self.problems) == 1:
            text = self.problems[0]
        else:
            text = f"{len(self.problems)} problems in the rules\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(text)
