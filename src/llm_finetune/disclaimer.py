"""The one disclaimer, shown wherever answers are: both chats and the evaluation's HTML page."""

#: Keep "not medical advice" in lower case: the HTML page's tests look for it.
DISCLAIMER = "Answers come from a small demo model and are not medical advice."
