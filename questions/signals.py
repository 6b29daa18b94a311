"""Signals the patient-questions app sends when what patients can read changes."""

from django.dispatch import Signal

# Sent with `answer=` when a public answer is published or withdrawn, inside the step's
# transaction (the search index and the page cache follow it).
answer_live_changed = Signal()
