"""The job lifecycle: create, confirm, read, manage, the internal callbacks, the sweeper.

A job begins in `transitions.insert_new_job`; every status change after goes through
`transitions.transition_job`, on the row its caller locked once (`transitions.lock_job`).
"""
