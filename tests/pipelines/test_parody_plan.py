"""The plan's schema and the text rules applied to what the model writes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from animstudio.editing.text_fit import cut_to
from animstudio.pipelines.parody_plan import colour_name, draft_model, draft_shots, plain_line, speaking_shots


def entry(beat="none", line="Behold, the blob.", speaker="narrator"):
    return {"speaker": speaker, "line": line, "emotion": "excited", "caption": "Blob spotted", "beat": beat}


def test_the_schema_puts_beats_only_where_they_are_asked_for():
    schema = draft_model([0, 1, 2], speakers=["Rick"], beats_at={1})
    draft = schema.model_validate({"title": "T", "look": "warm", "shot_1": entry(), "shot_2": entry("rewind"),
                                   "shot_3": entry(speaker="Rick")})
    shots = draft_shots(draft, [0, 1, 2])
    assert [s["beat"] for s in shots] == ["none", "rewind", "none"]
    assert shots[2]["lines"] == [{"speaker": "Rick", "emotion": "excited", "text": "Behold, the blob."}]
    with pytest.raises(ValidationError):   # a beat where none is asked for, none where one is
        schema.model_validate({"title": "T", "look": "warm", "shot_1": entry("rewind"), "shot_2": entry(),
                               "shot_3": entry()})
    with pytest.raises(ValidationError):   # only the cast speaks
        schema.model_validate({"title": "T", "look": "warm", "shot_1": entry(speaker="Morty"),
                               "shot_2": entry("repeat"), "shot_3": entry()})


def test_lines_written_as_descriptions_keep_only_the_spoken_words():
    assert plain_line('The narrator looks at the camera and says, "Hello, everyone!"') == "Hello, everyone!"
    assert plain_line('Narrator: "Magnificent."') == "Magnificent."
    assert plain_line('He calls it "the blob" again') == 'He calls it "the blob" again'
    assert plain_line("[whispers] *Look* at him (pause)") == "Look at him"


def test_cut_to_keeps_whole_clauses_or_words():
    assert cut_to("Short enough.", 40) == "Short enough."
    assert cut_to("Here it is at last, the rarest blob of all the meadows.", 30) == "Here it is at last"
    assert cut_to("Here it is, the rarest blob of all the meadows.", 30) == "Here it is, the rarest..."
    assert cut_to("The sun is shining down on the blue sky", 20) == "The sun is..."
    assert len(cut_to("x" * 50, 10)) <= 10


def test_colours_are_named_for_the_writer():
    assert [colour_name(h) for h in ("#3b1d58", "#f6d861", "#101010")] == ["dark purple", "yellow", "black"]


def test_short_shots_share_a_line():
    from types import SimpleNamespace

    shots = [SimpleNamespace(index=i, start_s=a, end_s=b) for i, (a, b) in
             enumerate([(0, 1.2), (1.2, 3.2), (3.2, 5.2), (5.2, 9.0), (9.0, 10.0)])]
    # 0-2 make 5.2 s; 3 is long enough alone; the 1 s left at the end joins the group before it
    assert speaking_shots(SimpleNamespace(shots=shots)) == pytest.approx({0: 5.2, 3: 4.8})
    schema = draft_model([0, 1], line_chars={0: 40})
    assert "line" in schema.model_fields["shot_1"].annotation.model_fields
    assert set(schema.model_fields["shot_2"].annotation.model_fields) == {"caption", "beat"}


def test_repeated_captions_and_lines_are_left_out():
    from animstudio.pipelines.parody_plan import drop_repeats

    def shot(i, caption, text):
        return {"shot": i, "caption": caption, "beat": "none",
                "lines": [{"speaker": "narrator", "emotion": "happy", "text": text}] if text else []}

    shots = [shot(0, "The sun sets", "The serengeti is a place of wonder and beauty."),
             shot(1, "Grass sways", ""), shot(2, "the sun sets!", "The serengeti is a place..."),
             shot(3, "Lions nap", "Meanwhile, a lion naps."), shot(4, "", "The seren... no, a zebra!"),
             shot(5, "", "The serengeti is a place of wonder, a pl")]
    dropped = drop_repeats(shots)
    assert [s["caption"] for s in shots] == ["The sun sets", "Grass sways", "", "Lions nap", "", ""]
    assert [len(s["lines"]) for s in shots] == [1, 0, 0, 1, 1, 0]   # "seren" is not the word "serengeti"
    assert len(dropped) == 3 and all("repeats an earlier one" in d for d in dropped)
