"""Signals other apps listen to, so the workflow need not know about them."""

from django.dispatch import Signal

# Sent with `article=` inside the publishing transaction whenever the text patients see
# changes: a revision is published (first or new) or the article is unpublished. Receivers
# read `article.live_revision` (None once unpublished).
live_revision_changed = Signal()
