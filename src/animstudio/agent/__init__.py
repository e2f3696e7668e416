"""The studio's agent: it understands a creative request, plans it as calls of the registered tools,
carries the plan out as a checkpointed workflow with quality gates, and checks its own work.

    plan = make_plan("Cut a 12 second highlight reel out of match.mp4", files=["match.mp4"])
    plan.steps[0].tool        # 'edit.highlights'
"""
