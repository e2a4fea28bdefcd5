"""The job lifecycle: create, confirm, read, manage, the internal callbacks, the sweeper.

Every status change goes through `transitions.transition_job`.
"""
