"""The text strategies with a scripted LLM: Reflexion revises with its critiques in view until the bar
is reached, tree of thoughts keeps the best-scored candidate, chain of thought returns its thoughts."""

from __future__ import annotations

import json

from animstudio.agent.strategies import chain_of_thought, choose, reflexion, tree_of_thoughts

RUBRIC = "specific to what is on screen; surprising; fits the shot; no repeated jokes"


def test_reflexion_revises_with_every_critique_in_view(scripted):
    asked = []

    def script(request):
        system, user = request["messages"][1]["content"], request["messages"][-1]["content"]
        asked.append(user)
        if "judge writing" in system:
            score = {"The rabbit yawns.": 3, "The rabbit yawns at the sunrise, bored of it.": 6}.get(
                user.rsplit("\n", 1)[-1], 9)
            return json.dumps({"score": score, "problems": [f"problem at {score}"]})
        if "Critiques so far" not in user:
            return json.dumps({"text": "The rabbit yawns."})
        if "problem at 6" in user:
            return json.dumps({"text": "Even the sunrise yawns back at the rabbit."})
        return json.dumps({"text": "The rabbit yawns at the sunrise, bored of it."})

    done = reflexion("A joke about a rabbit yawning at sunrise", RUBRIC, client=scripted(script))
    assert done.text == "Even the sunrise yawns back at the rabbit." and done.score == 9
    assert [e["kind"] for e in done.trace] == ["draft", "critique", "draft", "critique", "draft", "critique"]
    last_revision = [a for a in asked if "Critiques so far" in a][-1]
    assert "problem at 3" in last_revision and "problem at 6" in last_revision     # the memory of the run


def test_tree_of_thoughts_keeps_the_best_candidate(scripted):
    def script(request):
        system, user = request["messages"][1]["content"], request["messages"][-1]["content"]
        if "judge writing" in system:
            return json.dumps({"score": {"take 1": 4, "take 11": 2, "take 21": 8}[user.rsplit("\n", 1)[-1]],
                               "problems": []})
        return json.dumps({"text": f"take {request['seed']}"})

    best = tree_of_thoughts("A joke", RUBRIC, client=scripted(script), width=3)
    candidates = [e for e in best.trace if e["kind"] == "candidate"]
    assert [c["text"] for c in candidates] == ["take 1", "take 11", "take 21"]
    assert best.text == "take 21" and best.score == 8


def test_chain_of_thought_and_the_choice_of_strategy(scripted):
    reply = chain_of_thought("2+2?", client=scripted(lambda r: '{"thoughts": ["two and two"], "answer": "4"}'))
    assert reply.text == "4" and reply.trace == [{"kind": "thought", "text": "two and two"}]
    assert choose("writing") == "reflexion" and choose("request", 0.9) == "plan-and-execute"
    assert choose("request", 0.2) == "react" and choose("question") == "chain-of-thought"
