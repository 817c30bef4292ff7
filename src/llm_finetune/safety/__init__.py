"""Fixed, versioned text rules around the chatbot's safety, kept apart from the model:

- :mod:`.answer_rules`: what a model's answer does (tells the person to get emergency care, names
  a dose the question did not give, sends them to a doctor), for the evaluation's safety probe
  and error analysis;
- :mod:`.guard`: red flags in the user's message (published "call your emergency number" lists),
  and the notice both chats show before the model's answer;
- :mod:`.text`: the text handling both share (normalising, clauses, negation).

Regular expressions, not a model: every decision can be read, tested and reproduced, and what the
rules cannot see is written down (:data:`.answer_rules.BLIND_SPOTS`).
"""
