"""The labeling workflow: assignments with leases, annotations with revisions, review, the queue, predictions
and the item state machine (states.py, pure)."""
