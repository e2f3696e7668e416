"""Parody briefs: the named styles and what each asks of the writer; free text is passed as it is."""

from __future__ import annotations

BRIEFS = {
    "nature documentary": "a hushed nature documentary: the narrator treats the characters as wild animals "
                          "observed in their habitat, with mock-serious awe",
    "sports commentary": "two excitable sports commentators calling every movement as if it were a cup final",
    "movie trailer": "an over-the-top blockbuster trailer: 'In a world...', dramatic pauses, huge stakes",
    "sitcom": "a sitcom: the characters trade quips and misunderstandings, with a laugh after each punchline",
}
DEFAULT_BRIEF = "nature documentary"


def brief_text(brief: str) -> str:
    return BRIEFS.get(brief.strip().lower(), brief.strip()) if brief.strip() else BRIEFS[DEFAULT_BRIEF]
